# minicr-test-victim --scenario attrs (tests/workloads/victim.c):
#   cwd (a directory with a space in DIR), umask, rlimits, environment
#   (getenv and /proc/self/environ), cmdline, comm, for the root and a child
#   with different values (the child also has a parent-death signal)
VICTIM=attrs
FLAVORS="host pidns"
source "$CR_DIR/lib/victim.sh"
