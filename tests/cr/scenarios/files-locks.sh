# File locks (minicr-test-flocks): a flock held through a description that
# is dup()ed and inherited, LOCK_SH flocks of two tasks on one file, an OFD
# lock on an inherited description, and POSIX read and write ranges of a
# parent and a child, through a shared description and through one of the
# child's own. The workload probes them every 100 ms (F_GETLK,
# F_OFD_GETLK, flock LOCK_NB from a fresh fork, /proc/locks counts and
# PIDs); after the restore each lock must be there once, with its owner.
FLAVORS="host pidns"
WORKLOAD=("$MINICR_BUILD_DIR/tests/workloads/minicr-test-flocks" "$S")

source "$CR_DIR/lib/fattrs.sh"
