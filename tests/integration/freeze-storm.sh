#!/usr/bin/env bash
# Freezing a tree that keeps changing: tasks fork and reap children and
# create and join threads continuously. Several dumps --leave-running must
# each succeed with a consistent tree (every task's parent is in the tree,
# or is the root's parent), and leave the storm running, untraced.
source "$(dirname "$0")/_common.sh"
enter_pidns "$@"
setup_work

start_tree --fork-storm
root=$TREE_PID
root_ppid=$(awk '{ sub(/.*\) /, ""); print $2 }' "/proc/$root/stat")
stormers=(storm-fork1 storm-fork2 storm-threads storm-mixed storm-sleep storm-sleep-kid)

ROUNDS=${STORM_ROUNDS:-6}
for ((n = 1; n <= ROUNDS; n++)); do
	img=$WORK/img$n
	rc=0
	timeout 60 "$MINICR" dump --leave-running -D "$img" "$root" 2>"$WORK/err$n" || rc=$?
	((rc == 0)) || { cat "$WORK/err$n" >&2; fail "dump $n exited $rc"; }
	[[ -f "$img/inventory.img" ]] || fail "dump $n: no inventory.img"
	"$MINICR_DECODE" show "$img" >"$WORK/show$n.txt" || fail "dump $n: show exited $?"

	# Consistency of what was recorded.
	awk -v root="$root" -v rootppid="$root_ppid" '
		NR == 1 { next }
		NR == 2 {
			if ($1 != root) { print "first task " $1 ", want the root " root; bad = 1 }
			if ($2 != rootppid) { print "root ppid " $2 ", want " rootppid; bad = 1 }
		}
		{ pid[$1]++; ppid[$1] = $2; n++ }
		END {
			for (p in pid) {
				if (pid[p] > 1) { print "task " p " listed " pid[p] " times"; bad = 1 }
				if (p != root && !(ppid[p] in pid)) { print "task " p ": parent " ppid[p] " not in the tree"; bad = 1 }
			}
			if (n < 7) { print "only " n " tasks"; bad = 1 }
			exit bad
		}' "$WORK/show$n.txt" >&2 || { cat "$WORK/show$n.txt" >&2; fail "dump $n: inconsistent tree (above)"; }
	for c in "${stormers[@]}"; do
		grep -Eq "[[:space:]]$c\$" "$WORK/show$n.txt" || fail "dump $n: $c missing"
	done
	# Threads: the thread-spawning tasks have 1..3 threads, never 0.
	awk 'NR > 1 && ($6 < 1 || $6 > 3) { print; bad = 1 } END { exit bad }' "$WORK/show$n.txt" >&2 ||
		fail "dump $n: odd thread counts (above)"

	check_untraced "$root" || fail "dump $n: tasks left traced"
	ntasks=$(($(wc -l <"$WORK/show$n.txt") - 1))
	ok "dump $n: $ntasks tasks, consistent, tree released"
done

# The storm goes on after the last dump: PIDs keep being allocated and
# every storm task is alive and not stopped.
last=$(cat /proc/sys/kernel/ns_last_pid)
for ((i = 0; i < 100; i++)); do
	now=$(cat /proc/sys/kernel/ns_last_pid)
	((now != last)) && break
	sleep 0.05
done
((now != last)) || fail "no fork in the tree after the dumps: ns_last_pid stays $last"
for c in "${stormers[@]}"; do
	p=$(awk -v c="$c" 'NR > 1 && $NF == c { print $1; exit }' "$WORK/show$ROUNDS.txt")
	st=$(awk '/^State:/ { print $2 }' "/proc/$p/status" 2>/dev/null) || st=gone
	[[ "$st" == R || "$st" == S || "$st" == D ]] || fail "$c ($p) is in state $st after the dumps"
done
ok "the storm still runs after $ROUNDS dumps"
say "PASS"
