# Timers minicr cannot restore exactly are refused at dump, naming the
# task, the timer and why, before any image is complete; each time the
# tree runs on untraced and its timers keep working: a timer on a child's
# CPU clock, one whose last delivery had overruns, a periodic CPU-time
# timer with its signal pending, a disarmed timer on a thread's CPU clock
# in a task with two threads.
FLAVORS="host pidns"

REFUSALS=(
	"cpu-of-child|timer [0-9]+: counts the CPU time of process [0-9]+, outside the task"
	"overrun|timer [0-9]+: its last expiration had [0-9]+ overruns"
	"cpu-pending|timer [0-9]+: periodic on a CPU clock with its signal pending"
	"thread-clock-disarmed|timer [0-9]+: disarmed on the CPU clock of one of its 2 threads"
)

scenario_main() {
	local r kind pat d
	local -a pids
	for r in "${REFUSALS[@]}"; do
		kind=${r%%|*} pat="task [0-9]+: ${r#*|}" d=$S/$kind
		flavor_spawn "$MINICR_BUILD_DIR/tests/workloads/minicr-test-timers" "$d" "--refuse=$kind"
		STARTED+=("$ROOT")
		wait_until 20 test -e "$d/ready" || { cat "$S/wl.log" >&2; fail "$kind: the workload did not get ready"; }
		expect_fail "$kind: dump" "$pat" "$MINICR" dump -D "$S/img.$kind" "$DUMP_PID"
		[[ ! -e "$S/img.$kind/inventory.img" ]] || fail "$kind: a refused dump left inventory.img"
		check_untraced "$ROOT" || fail "$kind: the tree is still traced after the refused dump"
		touch "$d/verify"
		wait_until 15 test -e "$d/result" || fail "$kind: the workload wrote no result after the refused dump"
		say "$(cat "$d/result")"
		grep -q '^OK ' "$d/result" || fail "$kind: the timers broke after the refused dump"
		ok "$kind: refused naming task and timer; the tree runs on with its timers"
		mapfile -t pids < <(tree_pids "$ROOT")
		kill_tree "$ROOT"
		wait_gone "${pids[@]}" || fail "$kind: the tree is not gone"
	done
}
