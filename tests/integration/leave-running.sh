#!/usr/bin/env bash
# minicr dump --leave-running: the images are right, and afterwards every
# task is alive in the state it had (the stopped one still stopped, sleepers
# asleep, zombies still zombies), with the same threads, and no thread is
# traced or left in a ptrace stop. A second dump of the same tree works.
source "$(dirname "$0")/_common.sh"
enter_pidns "$@"
setup_work

start_tree
root=$TREE_PID
snapshot "$root" >"$WORK/before.txt"
thread_lists "$root" >"$WORK/threads-before.txt"
cat "$WORK/before.txt"

for n in 1 2; do
	img=$WORK/img$n
	"$MINICR" dump --leave-running -D "$img" "$root" || fail "dump $n --leave-running exited $?"
	ok "dump $n: minicr dump --leave-running -D $img $root"

	[[ -f "$img/inventory.img" ]] || fail "dump $n: no inventory.img"
	"$MINICR_DECODE" show "$img" >"$WORK/show$n.txt" || fail "minicr-decode show exited $?"
	compare_show "$WORK/before.txt" "$WORK/show$n.txt" || fail "dump $n: show differs from /proc (diff above)"
	ok "dump $n: minicr-decode show matches the tree"

	kill -0 "$root" 2>/dev/null || fail "dump $n: the root is gone"
	check_untraced "$root" || fail "dump $n: tasks left traced (above)"
	ok "dump $n: no thread traced or in a ptrace stop"

	snapshot "$root" >"$WORK/after$n.txt"
	diff -u "$WORK/before.txt" "$WORK/after$n.txt" >&2 ||
		fail "dump $n: tasks, states or threads changed (diff above)"
	thread_lists "$root" >"$WORK/threads-after$n.txt"
	diff -u "$WORK/threads-before.txt" "$WORK/threads-after$n.txt" >&2 ||
		fail "dump $n: thread IDs changed (diff above)"
	ok "dump $n: every task alive, same state, same threads"
done

# The stopped task is in a real group stop (not a leftover ptrace stop): it
# resumes on SIGCONT and goes back to sleep.
stopped=$(awk 'NR > 1 && $5 == "T" { print $1 }' "$WORK/before.txt")
[[ -n "$stopped" ]] || fail "no stopped task in the tree"
grep -q '^State:[[:space:]]*T (stopped)' "/proc/$stopped/status" ||
	fail "task $stopped: $(grep ^State: "/proc/$stopped/status")"
kill -CONT "$stopped"
for ((i = 0; i < 100; i++)); do
	st=$(awk '/^State:/ { print $2 }' "/proc/$stopped/status")
	[[ "$st" == S ]] && break
	sleep 0.05
done
[[ "$st" == S ]] || fail "task $stopped did not resume on SIGCONT (state $st)"
ok "the stopped task resumes on SIGCONT"

# The tree still does what it did: a sleeper dies of SIGTERM and its parent
# (asleep in pause(), not reaping) then holds it as a zombie.
sleeper=$(pid_of_comm "$WORK/before.txt" sleep-a)
kill -TERM "$sleeper"
for ((i = 0; i < 100; i++)); do
	st=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$sleeper/stat")
	[[ "$st" == Z ]] && break
	sleep 0.05
done
[[ "$st" == Z ]] || fail "sleeper $sleeper did not die on SIGTERM (state $st)"
ok "a sleeper still handles signals after the dumps"
say "PASS"
