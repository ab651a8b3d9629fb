# /proc files the tree holds open are reopened for the restored tasks (same
# PIDs, so the same entries): a task's own /proc/self/stat at its offset, a
# child's /proc/PID/status, /proc/thread-self/comm, the /proc/self/fd
# directory and /proc/meminfo; each checked by the workload after the
# restore. A /proc file of a task outside the tree is refused at dump.
FLAVORS="host pidns migrate"
WL=/usr/bin/python3
PY=$CR_DIR/../workloads/proc_files.py
WORKLOAD=("$WL" "$PY" "$S")

ready() { [[ -e $S/ready ]]; }
check_before() {
	local o=$S/outside pids
	mkdir -p "$o"
	SPAWN_OUT=$S/outside.log spawn_clean "$WL" "$PY" "$o" --of $$
	STARTED+=("$SPAWN_PID")
	wait_until 10 test -e "$o/ready" || { echo "the outside workload did not start" >&2; return 1; }
	expect_fail "a /proc file of a task outside the tree" \
		"task $SPAWN_PID: fd [0-9]+ \(/proc/$$/status\) is a /proc file of task $$, which is not in the tree" \
		"$MINICR" dump -D "$S/img-outside" "$SPAWN_PID"
	[[ ! -e $S/img-outside/inventory.img ]] || { echo "the refused dump left inventory.img" >&2; return 1; }
	alive "$SPAWN_PID" || { echo "the refused tree is gone" >&2; return 1; }
	kill_tree "$SPAWN_PID"
}
check_after() {
	local want="position 5
own stat True
child status True
thread comm b'python3\\n'
fd dir True
meminfo True"
	workload_result "$want" || return 1
	say "every /proc file reads the restored task's entry"
}
