# minicr killed with SIGKILL (MINICR_FAULT, src/fault.h) at each stage of a
# dump of a 3-task tree: the tree keeps running as it was, untraced, and
# the images directory never looks complete (no inventory.img; restore
# refuses it). Then a dump without fault works and restores (nothing lost).
FLAVORS="host pidns"
STAGES="after-freeze after-core:1 after-core:3 after-mem:1 after-mem:2 before-inventory"

scenario_main() {
	local st n=0
	small_tree
	tree_shape "$ROOT" >"$S/intact"
	for st in $STAGES; do
		n=$((n + 1))
		expect_killed "dump killed at $st" "${st%%:*}" env MINICR_FAULT="$st" "$MINICR" dump -D "$S/img$n" "$DUMP_PID"
		tree_intact "dump killed at $st"
		[[ ! -e "$S/img$n/inventory.img" ]] || fail "dump killed at $st: inventory.img exists"
		expect_fail "restore of the images of a dump killed at $st" "no inventory\.img" "$MINICR" restore -d "$S/img$n"
		ok "killed at $st: tree intact and untraced, images incomplete and refused"
	done
	cr_dump
	wait_gone "${TREE[@]}" || fail "the dumped tree is still there"
	cp -a "$SRC_IMG" "$DST_IMG"
	cr_restore
	tree_shape "$ROOT" >"$S/shape.now"
	diff -u "$S/intact" "$S/shape.now" >&2 || fail "the restored tree differs"
	check_untraced "$ROOT" || fail "restored tree traced"
	ok "a dump without fault afterwards restores the same tree"
}
