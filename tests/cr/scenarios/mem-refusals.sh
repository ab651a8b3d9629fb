# Memory state minicr cannot give back is refused at dump, naming the task,
# the VMA and the state, before anything is written; the tree runs on,
# untraced, with its memory as it was: MAP_DROPPABLE memory (VmFlags dp,
# minicr-test-memflags DIR droppable).
FLAVORS="host pidns"

scenario_main() {
	mkdir -p "$S/wl"
	flavor_spawn "$MINICR_BUILD_DIR/tests/workloads/minicr-test-memflags" "$S/wl" droppable
	STARTED+=("$ROOT")
	wait_until 20 test -e "$S/wl/ready" || { cat "$S/wl.log" >&2; fail "the workload did not get ready"; }
	expect_fail "dump of MAP_DROPPABLE memory" \
		"refused: task $DUMP_PID: mapping [0-9a-f]+-[0-9a-f]+ rw-p .*MAP_DROPPABLE memory \(VmFlags dp\)" \
		"$MINICR" dump -D "$S/img" "$DUMP_PID"
	[[ ! -e "$S/img/inventory.img" ]] || fail "MAP_DROPPABLE: inventory.img written"
	alive "$ROOT" || fail "the tree died"
	check_untraced "$ROOT" || fail "the tree is left traced"
	touch "$S/wl/check"
	wait_until 10 test -e "$S/wl/result" || fail "the workload gave no result after the refused dump"
	[[ "$(cat "$S/wl/result")" == OK ]] || fail "after the refused dump: $(cat "$S/wl/result")"
	ok "MAP_DROPPABLE: refused naming task, VMA and state; the tree runs on intact"
}
