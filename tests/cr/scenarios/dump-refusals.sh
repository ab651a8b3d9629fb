# minicr dump refuses state it would not restore exactly, naming the task
# and the state, and lists all of it (not only the first) before writing
# anything: a child sharing the root's address space (clone(CLONE_VM)), one
# sharing its cwd/root/umask (clone(CLONE_FS)), one whose exit signal is
# not SIGCHLD, one in a network namespace of its own, one bound to a NUMA
# node (set_mempolicy), one with SysV shared memory attached. The tree runs on,
# untraced, and no image is left. --dry-run reports the same list; on a
# tree with nothing to refuse it exits 0, writes nothing, and the tree runs on.
FLAVORS="host pidns"
SHARE=$MINICR_BUILD_DIR/tests/workloads/minicr-test-share

share_tree() {
	local ready=$1 want=$#
	shift
	flavor_spawn "$SHARE" "$ready" "$@"
	STARTED+=("$ROOT")
	wait_until 10 test -e "$ready" || { cat "$S/wl.log" >&2 2>/dev/null; fail "minicr-test-share did not start"; }
	wait_until 10 eval '(($(tree_pids "$ROOT" | wc -l) == want))' || fail "not every child started"
	wait_until 5 eval '[[ "$(tree_pids "$ROOT" | while read -r p; do state_of "$p"; done | sort -u | xargs)" == S ]]' ||
		fail "the tree does not settle"
	mapfile -t TREE < <(tree_pids "$ROOT")
	tree_shape "$ROOT" >"$S/intact"
}

scenario_main() {
	local mode pat
	[[ -x "$SHARE" ]] || fail "missing $SHARE"
	share_tree "$S/ready" vm fs exitsig netns mempolicy sysvshm plain
	for mode in --dry-run --leave-running; do
		rm -rf "$S/img"
		expect_fail "dump $mode" "dump of $DUMP_PID refused: 6 things" \
			"$MINICR" dump "$mode" -D "$S/img" "$DUMP_PID"
		for pat in "share an address space \(clone\(CLONE_VM\)" "share cwd, root and umask \(clone\(CLONE_FS\)\)" \
			"gets signal 10 at its exit, not SIGCHLD" "its net namespace net:\[[0-9]+\] is not minicr's" \
			"NUMA memory policy bind" "is SysV shared memory \(shmat"; do
			grep -Eq "refused: .*$pat" "$S/err" || fail "dump $mode: no refusal matching /$pat/"
		done
		[[ -z "$(ls -A "$S/img" 2>/dev/null)" ]] || fail "dump $mode: images left: $(ls "$S/img")"
		tree_intact "dump $mode"
		ok "dump $mode: all 6 refusals listed, nothing written, the tree runs on"
	done
	kill_tree "$ROOT"
	wait_gone "${TREE[@]}" || fail "the tree is not gone"

	share_tree "$S/ready2" plain plain
	rm -rf "$S/img"
	"$MINICR" dump --dry-run -D "$S/img" "$DUMP_PID" >"$S/out" 2>"$S/err" ||
		{ cat "$S/err" >&2; fail "dump --dry-run of a plain tree failed"; }
	grep -q "nothing refused" "$S/out" || fail "dump --dry-run: no verdict on stdout"
	[[ ! -e "$S/img" ]] || fail "dump --dry-run created $S/img"
	tree_intact "dump --dry-run of a plain tree"
	ok "dump --dry-run of a plain tree: exit 0, nothing written, the tree runs on"
}
