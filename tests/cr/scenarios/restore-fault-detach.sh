# minicr restore killed with SIGKILL just before it detaches the fully
# restored tree: no task of the tree may be left behind (the restore did not
# report success). Same checks as restore-faults.sh.
FLAVORS="host pidns"
DISABLED="a minicr killed after the state is restored and before it detaches leaves the restored tree running (restore.c drops the tasks' parent-death signal before detach): known bug, not fixed yet"
STAGES="before-detach"

scenario_main() {
	local st
	small_tree
	tree_shape "$ROOT" >"$S/intact"
	cr_dump
	wait_gone "${TREE[@]}"
	move_images
	for st in $STAGES; do
		procs "$S/procs.before"
		expect_killed "restore killed at $st" "${st%%:*}" env MINICR_FAULT="$st" \
			"$MINICR" restore -d $(restore_args) "$DST_IMG"
		wait_until 10 eval 'procs "$S/procs.now"; cmp -s "$S/procs.before" "$S/procs.now"' || true
		no_new_tasks "restore killed at $st" "$S/procs.before"
		ok "restore killed at $st: no task left behind"
	done
	cr_restore
	tree_shape "$ROOT" >"$S/shape.now"
	diff -u "$S/intact" "$S/shape.now" >&2 || fail "the images restore another tree afterwards"
	check_untraced "$ROOT" || fail "restored tree traced"
	ok "the same images restore the tree afterwards"
}
