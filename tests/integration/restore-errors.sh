#!/usr/bin/env bash
# minicr restore refuses, with a clear message and a non-zero exit, and
# leaves no task behind:
#  - a PID the tree needs is taken (with each PID method): the message
#    names the PID and the command holding it; nothing is created;
#  - images without inventory.img (an incomplete dump);
#  - a truncated core image: the message names the file; nothing created;
#  - a truncated pages image (found only while the memory is restored):
#    every task created so far is killed and reaped;
#  - a file mapped by the tree (the workload's binary) changed since the
#    dump (checked last).
# Before the last case, the intact images still restore (and verify).
source "$(dirname "$0")/_common.sh"
enter_pidns "$@"
setup_work

# The PIDs of the namespace, written to $1 without forking (a glob and
# builtins only: no process of ours in the list).
procs() {
	local d
	local -a l=()
	for d in /proc/[0-9]*; do
		l+=("${d#/proc/}")
	done
	printf '%s\n' "${l[@]}" >"$1"
}

# expect_refusal WHAT PATTERN ARGS...: minicr restore ARGS fails (status 1)
# with a message matching PATTERN (grep -E), and the set of processes is
# the same afterwards.
expect_refusal() {
	local what=$1 pat=$2 rc=0
	shift 2
	procs "$WORK/procs.before"
	"$MINICR" restore "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
	sed 's/^/    /' "$WORK/err"
	((rc == 1)) || fail "$what: minicr restore exited $rc, want 1"
	grep -Eq "$pat" "$WORK/err" || fail "$what: message does not match /$pat/"
	[[ ! -s "$WORK/out" ]] || fail "$what: printed a root PID: $(cat "$WORK/out")"
	sleep 0.2
	procs "$WORK/procs.after"
	diff -u "$WORK/procs.before" "$WORK/procs.after" >&2 || fail "$what: processes changed (above)"
	local p
	for p in "${pids[@]}"; do
		[[ ! -d /proc/$p ]] || [[ " $HOLDERS " == *" $p "* ]] ||
			fail "$what: PID $p of the tree exists: $(cat /proc/$p/comm)"
	done
	ok "$what: refused, nothing left behind"
}

# The workload runs from a copy of its binary, changed at the end.
cp "$MINICR_TEST_VICTIM" "$WORK/victim-bin"
MINICR_TEST_VICTIM=$WORK/victim-bin
victim_start sessions
root=$VICTIM_PID
snapshot "$root" >"$WORK/before"
cat "$WORK/before"
mapfile -t pids < <(awk 'NR > 1 { print $1 }' "$WORK/before")
img=$WORK/img
"$MINICR" dump -D "$img" "$root" || fail "dump failed"
wait_gone "${pids[@]}" || fail "the tree is not gone after the dump"
HOLDERS=

# 1. A needed PID is taken, by `tail` (ns_last_pid makes the next fork get
# it): the PID of a task in the middle of the tree, then the root's. The
# PID counter is put back above the tree's PIDs afterwards, so that minicr
# itself does not get one of them.
last=$(cat /proc/sys/kernel/ns_last_pid)
for victim in "$(pid_of_comm "$WORK/before" sess-kid2)" "$root"; do
	[[ -n "$victim" ]] || fail "no sess-kid2 in the tree"
	echo $((victim - 1)) >/proc/sys/kernel/ns_last_pid
	spawn_clean tail -f /dev/null
	holder=$SPAWN_PID
	disown "$holder"
	echo $((last + 50)) >/proc/sys/kernel/ns_last_pid
	[[ "$holder" == "$victim" ]] || { kill_pids "$holder"; fail "could not take PID $victim (got $holder)"; }
	for ((i = 0; i < 100; i++)); do [[ "$(cat /proc/$holder/comm)" == tail ]] && break; sleep 0.02; done
	HOLDERS=$holder
	for method in clone3 ns_last_pid; do
		expect_refusal "PID $victim taken ($method)" "PID $victim\\b.*'tail'|'tail'.*\\b$victim\\b" \
			-d --pid-method="$method" "$img"
	done
	kill_pids "$holder"
	wait_gone "$holder"
	HOLDERS=
done

# 2. No inventory.img.
cp -a "$img" "$WORK/noinv"
rm "$WORK/noinv/inventory.img"
expect_refusal "no inventory.img" "inventory\\.img" -d "$WORK/noinv"

# 3. A truncated core image (of a task in the middle of the tree).
victim=$(pid_of_comm "$WORK/before" sess-kid2)
cp -a "$img" "$WORK/trunc-core"
sz=$(stat -c %s "$img/core-$victim.img")
truncate -s $((sz / 2)) "$WORK/trunc-core/core-$victim.img"
expect_refusal "core-$victim.img truncated to $((sz / 2)) of $sz bytes" "core-$victim\\.img" -d "$WORK/trunc-core"
truncate -s 2 "$WORK/trunc-core/core-$victim.img"
expect_refusal "core-$victim.img truncated to 2 bytes" "core-$victim\\.img" -d "$WORK/trunc-core"

# 4. A truncated pages image of a leaf task: found while restoring memory,
# after tasks were created; they must all be gone.
leaf=$(pid_of_comm "$WORK/before" sess-kid2a)
cp -a "$img" "$WORK/trunc-pages"
sz=$(stat -c %s "$img/pages-$leaf.img")
truncate -s $((sz / 2)) "$WORK/trunc-pages/pages-$leaf.img"
expect_refusal "pages-$leaf.img truncated to $((sz / 2)) of $sz bytes" "pages-$leaf\\.img" -d "$WORK/trunc-pages"

# The intact images still restore, and the tree verifies itself.
for method in clone3 ns_last_pid; do
	t0=$(mono_now)
	out=$("$MINICR" restore -d --pid-method="$method" "$img") || fail "restore of the intact images failed"
	[[ "$out" == "$root" ]] || fail "restore printed '$out', want $root"
	victim_verify 1 "$t0" || fail "the tree restored after the refusals does not verify"
	ok "after the refusals the intact images restore ($method) and verify"
	kill_tree "$root"
	kill_pids "${pids[@]}"
	wait_gone "${pids[@]}" || fail "restored tree not gone"
done
# 5. A file the tree maps (its binary) changed since the dump: refused
# while restoring the memory (tasks already created): all gone.
touch -d '2001-02-03 04:05:06' "$WORK/victim-bin"
expect_refusal "the mapped binary changed since the dump" "victim-bin.*changed since the dump" -d "$img"
say "PASS"
