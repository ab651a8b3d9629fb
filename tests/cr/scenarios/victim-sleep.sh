# minicr-test-victim --scenario sleep (tests/workloads/victim.c):
#   a task in nanosleep() (relative, retried with the remaining time on
#   EINTR) and one in clock_nanosleep(TIMER_ABSTIME), both 3 s from ready;
#   each must wake not before its deadline and at most 1 s after
#   max(deadline, T_RESTORED), and go on
VICTIM=sleep
FLAVORS="host pidns"
source "$CR_DIR/lib/victim.sh"
