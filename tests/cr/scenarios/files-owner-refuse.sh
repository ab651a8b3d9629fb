# An F_SETOWN owner outside the tree (the workload's parent) cannot be
# restored: the dump refuses, naming task, fd and owner, and the tree runs
# on untraced. Host flavor only: the init of a PID namespace can name no
# process outside its tree.
FLAVORS="host"

source "$CR_DIR/lib/fattrs.sh"

scenario_main() {
	flavor_spawn "$MINICR_BUILD_DIR/tests/workloads/minicr-test-fattrs" outside "$S"
	STARTED+=("$ROOT")
	wait_until 20 ready || { cat "$S/wl.log" "$S/status" >&2; fail "the workload did not start"; }
	expect_fail "dump of a file owned outside the tree" \
		"task [0-9]+: fd [0-9]+ \(pipe:.*F_SETOWN owner, process [0-9]+, is outside the tree" \
		on_src "$MINICR" dump -D "$SRC_IMG" "$DUMP_PID"
	[[ ! -e "$SRC_IMG/inventory.img" ]] || fail "the refused dump left inventory.img"
	check_untraced "$ROOT" || fail "the refused tree is traced"
	local n
	n=$(fattrs_rounds)
	wait_until 10 fattrs_advanced "$n" || fail "the refused tree does not run on"
	ok "refused at dump, the tree runs on: $(fattrs_status)"
}
