# minicr-test-victim --scenario sessions (tests/workloads/victim.c):
#   root is a child subreaper; a group whose leader exited (two members
#   left), a session whose leader exited (its two kids, one in the dead
#   leader's group, one in its own group with a child), a live second
#   session with two kids, a group in the root's session
VICTIM=sessions
FLAVORS="host pidns"
source "$CR_DIR/lib/victim.sh"
