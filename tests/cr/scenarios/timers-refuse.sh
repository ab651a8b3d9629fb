# A timer on the CPU clock of another process (here the task's child) is
# refused at dump, naming the task, the timer and the clock's process,
# before any image is complete; the tree runs on untraced and its timers
# keep working.
FLAVORS="host pidns"

scenario_main() {
	flavor_spawn "$MINICR_BUILD_DIR/tests/workloads/minicr-test-timers" "$S/t" --refuse
	STARTED+=("$ROOT")
	wait_until 20 test -e "$S/t/ready" || { cat "$S/wl.log" >&2; fail "the workload did not get ready"; }
	expect_fail "dump of a timer on a child's CPU clock" \
		"task [0-9]+: timer [0-9]+: counts the CPU time of process [0-9]+, outside the task" \
		"$MINICR" dump -D "$S/img" "$DUMP_PID"
	[[ ! -e "$S/img/inventory.img" ]] || fail "a refused dump left inventory.img"
	check_untraced "$ROOT" || fail "the tree is still traced after the refused dump"
	touch "$S/t/verify"
	wait_until 15 test -e "$S/t/result" || fail "the workload wrote no result after the refused dump"
	say "$(cat "$S/t/result")"
	grep -q '^OK ' "$S/t/result" || fail "the timers broke after the refused dump"
	ok "refused naming task and timer; the tree runs on with its timers"
}
