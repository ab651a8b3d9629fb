#!/usr/bin/env bash
# minicr dump refuses what it must refuse, with a clear message and a
# non-zero exit, and a dump that fails half-way (images dir read-only, or
# file system full) leaves the tree running exactly as it was, untraced,
# and no inventory.img behind.
source "$(dirname "$0")/_common.sh"
enter_pidns "$@"
setup_work

# expect_fail NAME PATTERN CMD...: CMD exits non-zero (not by a signal) and
# its stderr matches the extended regex PATTERN.
expect_fail() {
	local name=$1 pat=$2 rc=0
	shift 2
	"$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
	say "$name: exit $rc: $(head -c 600 "$WORK/err" | tr '\n' ' ')"
	((rc != 0)) || fail "$name: exited 0"
	((rc < 128)) || fail "$name: died of signal $((rc - 128))"
	[[ -s "$WORK/err" ]] || fail "$name: no error message"
	grep -Eq -- "$pat" "$WORK/err" || fail "$name: message does not match /$pat/"
	ok "$name"
}

# The tree is untouched: same tasks, states and threads, nothing traced.
expect_tree_intact() {
	local what=$1
	snapshot "$root" >"$WORK/now.txt"
	diff -u "$WORK/before.txt" "$WORK/now.txt" >&2 || fail "$what: the tree changed (diff above)"
	thread_lists "$root" >"$WORK/threads-now.txt"
	diff -u "$WORK/threads-before.txt" "$WORK/threads-now.txt" >&2 || fail "$what: threads changed"
	check_untraced "$root" || fail "$what: tasks left traced"
	ok "$what: tree running as before, untraced"
}

# --- refused before touching anything ---

nopid=99999
[[ ! -e /proc/$nopid ]] || fail "PID $nopid exists in a fresh namespace?"
expect_fail "nonexistent PID" "$nopid" "$MINICR" dump -D "$WORK/d-nopid" $nopid
[[ ! -e "$WORK/d-nopid/inventory.img" ]] || fail "nonexistent PID: inventory.img written"

expect_fail "PID 1" "PID 1|pid 1|init" "$MINICR" dump -D "$WORK/d-init" 1
[[ ! -e "$WORK/d-init/inventory.img" ]] || fail "PID 1: inventory.img written"

# minicr's own parent, a shell that stays (the trailing command keeps bash
# from exec'ing minicr).
expect_fail "minicr's parent" "ancestor|itself|minicr|own" \
	bash -c '"$0" dump -D "$1" $$; exit $?' "$MINICR" "$WORK/d-parent"
# minicr itself (bash execs it, so $$ is minicr's PID).
expect_fail "minicr itself" "ancestor|itself|minicr|own" \
	bash -c 'exec "$0" dump -D "$1" $$' "$MINICR" "$WORK/d-self"
# A subtree holding minicr: a shell with a sleeping child and minicr.
expect_fail "tree containing minicr" "ancestor|itself|minicr|own" \
	bash -c 'sleep 60 & s=$!; "$0" dump -D "$1" $$; rc=$?; kill $s; exit $rc' "$MINICR" "$WORK/d-sub"

expect_fail "no PID" "PID|pid|usage" "$MINICR" dump -D "$WORK/d-x"
expect_fail "not a PID" "abc" "$MINICR" dump -D "$WORK/d-x" abc

# --- with a tree ---

start_tree
root=$TREE_PID
snapshot "$root" >"$WORK/before.txt"
thread_lists "$root" >"$WORK/threads-before.txt"

# Non-empty images dir without --force.
mkdir "$WORK/full-dir"
echo keep >"$WORK/full-dir/something"
expect_fail "non-empty dir" "full-dir" "$MINICR" dump --leave-running -D "$WORK/full-dir" "$root"
[[ ! -e "$WORK/full-dir/inventory.img" ]] || fail "non-empty dir: inventory.img written"
[[ "$(cat "$WORK/full-dir/something")" == keep ]] || fail "non-empty dir: our file was touched"
expect_tree_intact "non-empty dir"
# ... and with --force it is accepted.
"$MINICR" dump --leave-running --force -D "$WORK/full-dir" "$root" || fail "--force: dump exited $?"
[[ -f "$WORK/full-dir/inventory.img" ]] || fail "--force: no inventory.img"
expect_tree_intact "non-empty dir with --force"

# Images dir on a read-only file system (the mount namespace is ours).
mkdir "$WORK/ro"
mount -t tmpfs -o ro,size=1m minicr-test-ro "$WORK/ro"
expect_fail "read-only images dir" "($WORK/ro|\.img).*Read-only file system|Read-only file system.*($WORK/ro|\.img)" \
	"$MINICR" dump -D "$WORK/ro" "$root"
expect_tree_intact "read-only images dir"
# A directory to create under it.
expect_fail "read-only, new subdir" "$WORK/ro/img.*Read-only file system|Read-only file system.*$WORK/ro/img" \
	"$MINICR" dump -D "$WORK/ro/img" "$root"
expect_tree_intact "read-only, new subdir"

# A file system that fills up while the images are written: the tree is
# frozen by then, so this is the half-way failure.
mkdir "$WORK/small"
mount -t tmpfs -o size=64k minicr-test-small "$WORK/small"
mkdir "$WORK/small/img"
dd if=/dev/zero of="$WORK/small/filler" bs=4k 2>/dev/null || true
expect_fail "file system full" "($WORK/small/img|\.img).*No space left on device|No space left on device.*($WORK/small/img|\.img)" \
	"$MINICR" dump -D "$WORK/small/img" "$root"
[[ ! -e "$WORK/small/img/inventory.img" ]] || fail "file system full: inventory.img written"
expect_tree_intact "file system full"

# Same, out of inodes: creating the first image file fails.
mkdir "$WORK/noinodes"
mount -t tmpfs -o size=1m,nr_inodes=2 minicr-test-noinodes "$WORK/noinodes"
mkdir "$WORK/noinodes/img"
expect_fail "no inodes left" "($WORK/noinodes/img|\.img).*No space left on device|No space left on device.*($WORK/noinodes/img|\.img)" \
	"$MINICR" dump -D "$WORK/noinodes/img" "$root"
expect_tree_intact "no inodes left"

# After all that, a normal dump of the same tree still works and kills it.
"$MINICR" dump -D "$WORK/img" "$root" || fail "final dump exited $?"
"$MINICR_DECODE" show "$WORK/img" >"$WORK/show.txt"
compare_show "$WORK/before.txt" "$WORK/show.txt" || fail "final dump: show differs (diff above)"
rc=0
wait "$root" || rc=$?
[[ $rc == 137 ]] || fail "final dump: root ended with status $rc, want 137"
ok "a normal dump afterwards works and kills the tree"
say "PASS"
