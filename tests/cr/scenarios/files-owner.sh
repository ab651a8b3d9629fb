# F_SETOWN_EX, F_SETSIG and O_ASYNC of open file descriptions
# (minicr-test-fattrs owner): a pipe with O_ASYNC owned by the process with
# SIGRTMIN+1 (a write must raise it, with si_fd), a socket owned by a
# thread, one owned by the process group, a regular file with O_ASYNC.
# The workload checks them every 50 ms; after the restore they must hold.
FLAVORS="host pidns"
WORKLOAD=("$MINICR_BUILD_DIR/tests/workloads/minicr-test-fattrs" owner "$S")

source "$CR_DIR/lib/fattrs.sh"
