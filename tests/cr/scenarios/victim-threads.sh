# minicr-test-victim --scenario threads (tests/workloads/victim.c):
#   4 threads (leader + 3): each checks gettid(), its name, its TLS value
#   and its blocked mask; all 4 counters keep rising; /proc/self/task lists
#   exactly the recorded TIDs
VICTIM=threads
FLAVORS="host pidns"
source "$CR_DIR/lib/victim.sh"
