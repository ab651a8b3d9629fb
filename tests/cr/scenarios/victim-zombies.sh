# minicr-test-victim --scenario zombies (tests/workloads/victim.c):
#   two zombie children (exit 7, killed by SIGTERM); after restore the root
#   reaps them with waitpid and checks the status; and a child stopped by
#   SIGSTOP: still stopped after restore, it goes on when the root sends
#   SIGCONT
VICTIM=zombies
FLAVORS="host pidns"
source "$CR_DIR/lib/victim.sh"
