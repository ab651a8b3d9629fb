# POSIX timers and itimers (minicr-test-timers) come back with the same
# IDs (a deleted ID stays unused), clocks, notification, signal values,
# periods and time left; the signals of two blocked timers stay pending,
# each queued once by its own timer; the periodic timers, ITIMER_REAL,
# ITIMER_VIRTUAL and ITIMER_PROF keep firing with the right siginfo in the
# right thread. Without the restore of the timers nothing fires and the
# IDs are invalid.
FLAVORS="host pidns"
# Timer F may be due at the freeze (about one dump in 25): refused, dump again.
DUMP_RETRY="due at the freeze .*: dump again"
WORKLOAD=("$MINICR_BUILD_DIR/tests/workloads/minicr-test-timers" "$S/t")

ready() { [[ -e "$S/t/ready" ]]; }
check_after() {
	touch "$S/t/verify"
	wait_until 15 test -e "$S/t/result" || { echo "the workload wrote no result" >&2; return 1; }
	say "$(cat "$S/t/result")"
	grep -q '^OK ' "$S/t/result"
}
