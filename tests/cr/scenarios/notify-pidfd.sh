# A parent holding a pidfd of its child (PIDFD_NONBLOCK) and a PIDFD_THREAD
# pidfd of one of its threads (minicr-test-notify pidfd): after the restore
# signals sent through the thread's pidfd reach that thread, and the
# child's death, when the test kills it, reaches the parent through poll()
# and waitid(P_PIDFD) on its pidfd. A pidfd of a zombie child comes back
# too: the parent reaps the zombie through it (exit status 7).
FLAVORS="host pidns"
WORKLOAD=("$MINICR_BUILD_DIR/tests/workloads/minicr-test-notify" pidfd "$S")

ready() { [[ -e $S/ready ]]; }
check_after() {
	local child
	touch "$S/reap"
	wait_until 5 grep -q -x "zombie exit 7 code 1" "$S/log" || { cat "$S/log" >&2; return 1; }
	child=$(kids_of "$ROOT")
	child=${child//[[:space:]]/}   # the zombie is gone: one child left
	[[ $child =~ ^[0-9]+$ ]] || { echo "children of $ROOT: $child" >&2; return 1; }
	sleep 0.3   # a few rounds of signals through the thread's pidfd
	kill -KILL "$child"
	wait_until 5 grep -q "^child exit sig 9 " "$S/log" || { cat "$S/log" >&2; return 1; }
	! grep BAD "$S/log" >&2 || return 1
	say "the parent saw its child $child die through the restored pidfd"
}
