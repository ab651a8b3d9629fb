# What minicr cannot restore of seccomp is refused at dump, naming the task
# and thread, before any image is complete, and the tree runs on untraced
# (minicr-test-seccomp --notify / --partial, tests/workloads/seccomp.c):
# a filter that returns SECCOMP_RET_USER_NOTIF (its listener cannot be
# rebuilt), and a filter shared by two threads but not by the third
# (restore can share a filter among all threads only).
FLAVORS="host pidns"

round() { sed -n 's/^round \([0-9]*\) ok$/\1/p' "$1" 2>/dev/null; }
past() { local r; r=$(round "$1"); [[ -n "$r" ]] && ((r > $2)); }

refused() {
	local mode=$1 pat=$2 r
	mkdir -p "$S/$mode"
	flavor_spawn "$MINICR_BUILD_DIR/tests/workloads/minicr-test-seccomp" "--$mode" "$S/$mode"
	STARTED+=("$ROOT")
	wait_until 20 past "$S/$mode/main" 0 || fail "--$mode: the workload does not run"
	expect_fail "dump of --$mode" "$pat" on_src "$MINICR" dump -D "$S/img-$mode" "$DUMP_PID"
	[[ ! -e "$S/img-$mode/inventory.img" ]] || fail "--$mode: inventory.img written"
	check_untraced "$ROOT" || fail "--$mode: tasks left traced"
	r=$(round "$S/$mode/main")
	wait_until 10 past "$S/$mode/main" "$r" || fail "--$mode: the tree stands still after the refusal"
	ok "--$mode: refused, the tree runs on"
	kill_tree "$ROOT"
}

scenario_main() {
	refused notify 'task [0-9]+ thread [0-9]+: seccomp filter 0 \(0 = oldest\) returns SECCOMP_RET_USER_NOTIF'
	refused partial 'task [0-9]+ threads [0-9]+ and [0-9]+: seccomp: they share filter 0 .*other threads lack'
}
