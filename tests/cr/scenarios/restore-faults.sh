# minicr restore killed with SIGKILL (MINICR_FAULT, src/fault.h) half-way
# through restoring a 3-task tree: after the tree is forked, after it is
# seized, in the middle of restoring memory (each task), just before the
# restored tree is detached: no task of the tree is left behind. The same
# images then restore fine.
FLAVORS="host pidns"
STAGES="after-fork after-seize mid-mem:1 mid-mem:2 mid-mem:3 before-detach"

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
