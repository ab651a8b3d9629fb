# restore --pidns=auto. The init of a PID namespace dumped from inside it
# (nsenter, --leave-running) needs PID 1, taken here: refused without auto,
# suggesting it; with auto restored into a new PID namespace with the same
# PIDs inside, said in one line. A plain tree (root not an init) with one
# of its PIDs taken (by `tail`): refused without auto (no hint at --pidns,
# it would not help), and with auto, naming why a new namespace cannot keep
# its PIDs (its root would be PID 1 there); once the PID is free, auto
# restores it in place: same PIDs, same namespace, nothing said. A tree
# whose root was a namespace init, dumped from outside, goes into a new one
# with auto as without, its old outer PID taken.
FLAVORS="host"

refused() {   # refused WHAT PATTERN DIR ARGS...
	local what=$1 pat=$2 dir=$3
	shift 3
	procs "$S/procs.before"
	expect_fail "$what" "$pat" "$MINICR" restore -d "$@" "$dir"
	[[ ! -s "$S/out" ]] || fail "$what: printed a root PID"
	no_new_tasks "$what" "$S/procs.before"
	ok "$what: refused, no task created"
}

# restore_auto DIR: minicr restore -d --pidns=auto DIR; sets ROOT, stderr
# in $S/err.
restore_auto() {
	ROOT=$("$MINICR" restore -d --pidns=auto "$1" 2>"$S/err") ||
		{ cat "$S/err" >&2; fail "restore --pidns=auto of $1 failed"; }
	STARTED+=("$ROOT")
	sed 's/^/    | /' "$S/err"
}

# ns_init: start the init of a PID namespace of its own with two children;
# sets ROOT (PID here), TREE, UNSHARE (its parent) and $S/shape.before.
ns_init() {
	SPAWN_OUT=$S/wl.log spawn_clean unshare --pid --fork --mount-proc -- \
		bash -c 'sleep 1000 & sleep 1000 & wait'
	UNSHARE=$SPAWN_PID
	ROOT=$(child_of "$UNSHARE") || fail "the namespace did not start"
	STARTED+=("$ROOT")
	wait_until 10 eval '(($(tree_pids "$ROOT" | wc -l) == 3))' || fail "the init tree did not start"
	mapfile -t TREE < <(tree_pids "$ROOT")
	tree_shape "$ROOT" >"$S/shape.before"
}

# in_new_ns WHAT: the restored ROOT is PID 1 of a new PID namespace, with
# the shape of $S/shape.before; the tree is killed afterwards.
in_new_ns() {
	[[ "$(ns_pid "$ROOT")" == 1 ]] || fail "$1: the restored root is PID $(ns_pid "$ROOT") inside, want 1"
	[[ "$(readlink "/proc/$ROOT/ns/pid")" != "$(readlink /proc/self/ns/pid)" ]] ||
		fail "$1: the restored root is in this PID namespace"
	tree_shape "$ROOT" >"$S/shape.after"
	diff -u "$S/shape.before" "$S/shape.after" >&2 || fail "$1: the restored tree differs (diff above)"
	check_untraced "$ROOT" || fail "$1: the restored tree is traced"
	ok "$1"
	mapfile -t TREE < <(tree_pids "$ROOT")
	kill_tree "$ROOT"
	wait_gone "${TREE[@]}" || fail "$1: the restored tree is not gone"
}

# A root that was the init of its PID namespace (dumped from outside) goes
# into a new namespace anyway: its PIDs here do not matter, auto or not.
init_tree() {
	local outer
	ns_init
	outer=$ROOT
	"$MINICR" dump -D "$S/init" "$ROOT" >"$S/dump.log" 2>&1 ||
		{ cat "$S/dump.log" >&2; fail "dump of the init tree failed"; }
	wait_gone "${TREE[@]}" || fail "the dumped init tree is still there"
	wait "$UNSHARE" 2>/dev/null || true
	take_pid "$outer"
	restore_auto "$S/init"
	in_new_ns "auto: a PID namespace init goes into a new one, its old PID $outer taken or not"
	kill_pids "$HOLDER"
	wait_gone "$HOLDER" || fail "tail at $outer is not gone"
}

# The init of a PID namespace dumped from inside it (nsenter, as into a
# container; --leave-running, as killing it would kill minicr): the images
# say root PID 1, which is always taken here.
entered_init() {
	ns_init
	nsenter -t "$ROOT" -p -m -- "$MINICR" dump --leave-running -D "$S/entered" 1 \
		>"$S/dump.log" 2>&1 || { cat "$S/dump.log" >&2; fail "dump from inside the namespace failed"; }
	"$MINICR_DECODE" show "$S/entered" | sed 's/^/    | /'
	kill_pids "${TREE[@]}"
	wait_gone "${TREE[@]}" || fail "the dumped init tree is still there"
	wait "$UNSHARE" 2>/dev/null || true

	TREE=()
	refused "root PID 1, taken here" "PID 1 is taken by .*" "$S/entered"
	grep -q -- "--pidns=auto" "$S/err" || fail "the refusal does not suggest --pidns=auto"
	restore_auto "$S/entered"
	(($(wc -l <"$S/err") == 1)) || fail "auto printed $(wc -l <"$S/err") lines, want 1"
	grep -q "PID 1 is taken here: restoring into a new PID namespace" "$S/err" ||
		fail "auto did not say it restores into a new PID namespace"
	in_new_ns "auto: root PID 1 taken -> new PID namespace, same PIDs inside"
}

plain_tree() {
	local holder pid
	small_tree
	tree_shape "$ROOT" >"$S/shape.before"
	cr_dump
	wait_gone "${TREE[@]}" || fail "the dumped tree is still there"
	move_images

	pid=${TREE[1]}
	take_pid "$pid"
	holder=$HOLDER
	local saved=("${TREE[@]}")
	TREE=()
	refused "PID $pid taken" "PID $pid is taken by 'tail'" "$DST_IMG"
	grep -q -- "--pidns" "$S/err" && fail "the refusal suggests --pidns for a root that was no init"
	refused "auto, PID $pid taken, root no init" \
		"PID $pid is taken by 'tail'.*|--pidns=auto: the root ${saved[0]} was PID ${saved[0]} of its PID namespace, not its init" \
		"$DST_IMG" --pidns=auto
	grep -q -- "--pidns=auto: the root ${saved[0]} was PID ${saved[0]} .*not its init" "$S/err" ||
		fail "auto did not say why it cannot use a new namespace"
	kill_pids "$holder"
	wait_gone "$holder"
	TREE=("${saved[@]}")

	restore_auto "$DST_IMG"
	[[ ! -s "$S/err" ]] || fail "auto with every PID free printed something"
	[[ $ROOT == "${TREE[0]}" ]] || fail "restored root is PID $ROOT, want ${TREE[0]}"
	[[ "$(readlink "/proc/$ROOT/ns/pid")" == "$(readlink /proc/self/ns/pid)" ]] ||
		fail "auto with every PID free restored into another PID namespace"
	tree_shape "$ROOT" >"$S/shape.after"
	diff -u "$S/shape.before" "$S/shape.after" >&2 || fail "the restored tree differs (diff above)"
	ok "auto: every PID free -> restored in place"
}

scenario_main() {
	entered_init
	init_tree
	plain_tree
}
