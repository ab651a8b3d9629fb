# A parent holding a pidfd of its child (PIDFD_NONBLOCK) and a PIDFD_THREAD
# pidfd of one of its threads (minicr-test-notify pidfd): after the restore
# signals sent through the thread's pidfd reach that thread, and the
# child's death, when the test kills it, reaches the parent through poll()
# and waitid(P_PIDFD) on its pidfd.
FLAVORS="host pidns"
WORKLOAD=("$MINICR_BUILD_DIR/tests/workloads/minicr-test-notify" pidfd "$S")

ready() { [[ -e $S/ready ]]; }
check_after() {
	local child
	child=$(child_of "$ROOT") || return 1
	sleep 0.3   # a few rounds of signals through the thread's pidfd
	kill -KILL "$child"
	wait_until 5 grep -q "^child exit sig 9 " "$S/log" || { cat "$S/log" >&2; return 1; }
	! grep BAD "$S/log" >&2 || return 1
	say "the parent saw its child $child die through the restored pidfd"
}
