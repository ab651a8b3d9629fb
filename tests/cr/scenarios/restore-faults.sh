# minicr restore killed with SIGKILL (MINICR_FAULT, src/fault.h) half-way
# through restoring a 3-task tree: after the tree is forked, after it is
# seized, in the middle of restoring memory (each task), just before the
# restored tree is detached: no task of the tree is left behind. Then a
# step of the tree's construction that fails (MINICR_FAULT_STEP, a test hook
# in src/restore.c) makes restore exit 1 saying so, with nothing left. The
# same images then restore fine.
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
	for st in 1 2 4; do
		procs "$S/procs.before"
		expect_fail "restore failing at step $st" "failing step $st on purpose" \
			env MINICR_FAULT_STEP="$st" "$MINICR" restore -d $(restore_args) "$DST_IMG"
		grep -q "every task created was killed" "$S/err" ||
			fail "restore failing at step $st: no word of the cleanup"
		wait_until 10 eval 'procs "$S/procs.now"; cmp -s "$S/procs.before" "$S/procs.now"' || true
		no_new_tasks "restore failing at step $st" "$S/procs.before"
		ok "restore failing at step $st: no task left behind"
	done
	cr_restore
	tree_shape "$ROOT" >"$S/shape.now"
	diff -u "$S/intact" "$S/shape.now" >&2 || fail "the images restore another tree afterwards"
	check_untraced "$ROOT" || fail "restored tree traced"
	ok "the same images restore the tree afterwards"
}
