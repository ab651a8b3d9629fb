#!/usr/bin/env bash
# A real shell pipeline across dump + restore:
#   bash -c 'i=0; while :; do echo $i; i=$((i+1)); sleep 0.05; done' | cat | tee FILE >/dev/null
# The tree (the outer bash, the loop's bash with its sleep, cat, tee) is
# dumped while it runs (lines may be in flight in either pipe) and
# restored; FILE then goes on 0, 1, 2, ... with no number lost or repeated.
# Once with --leave-running (the tree goes on, nothing consumed), once
# with a restore, twice from the same images (FILE put back as it was at
# dump time before each).
source "$(dirname "$0")/_common.sh"
enter_pidns "$@"
setup_work

# check_seq FILE MIN: lines are exactly 0..N-1 with N > MIN
check_seq() {
	awk -v min="$2" '$0 != NR - 1 { printf "line %d is \"%s\", want %d\n", NR, $0, NR - 1; bad = 1; exit }
		END { if (!bad && NR <= min) { printf "%d lines, want more than %d\n", NR, min; bad = 1 }
		      exit bad }' "$1" >&2
}

# wait_lines FILE N: until FILE has at least N lines (10 s)
wait_lines() {
	local i
	for ((i = 0; i < 200; i++)); do
		[[ -e $1 ]] && (($(wc -l <"$1") >= $2)) && return 0
		sleep 0.05
	done
	return 1
}

f=$WORK/out
pipeline='bash -c '\''i=0; while :; do echo $i; i=$((i+1)); sleep 0.05; done'\'' | cat | tee "$1" >/dev/null'
spawn_clean bash -c "$pipeline" pipeline "$f"
root=$SPAWN_PID
disown "$root"
TREES+=("$root")
wait_lines "$f" 10 || fail "the pipeline does not write"

# --leave-running: the pipeline must not notice.
"$MINICR" dump --leave-running -D "$WORK/img-lr" "$root" >"$WORK/dump.log" 2>&1 ||
	{ cat "$WORK/dump.log" >&2; fail "dump --leave-running failed"; }
n=$(wc -l <"$f")
wait_lines "$f" $((n + 10)) || fail "the pipeline stopped after dump --leave-running"
check_seq "$f" "$n" || fail "gap or repeat after dump --leave-running (above)"
ok "dump --leave-running: $(wc -l <"$f") lines, consecutive"

mapfile -t pids < <(tree_pids "$root")
img=$WORK/img
"$MINICR" dump -D "$img" "$root" >"$WORK/dump.log" 2>&1 ||
	{ cat "$WORK/dump.log" >&2; fail "dump failed"; }
wait_gone "${pids[@]}" || fail "the pipeline not killed by the dump"
cp "$f" "$f.at-dump"
n=$(wc -l <"$f")
check_seq "$f" 0 || fail "FILE at dump time is not 0..$((n - 1))"
say "dumped ${#pids[@]} tasks after $n lines:"
"$MINICR_DECODE" show "$img" | sed 's/^/    /'
for round in 1 2; do
	cp "$f.at-dump" "$f"
	"$MINICR" restore -d "$img" >"$WORK/restore.out" 2>"$WORK/restore.err" ||
		{ cat "$WORK/restore.err" >&2; fail "restore $round failed"; }
	check_untraced "$root" || fail "restore $round: tasks left traced"
	wait_lines "$f" $((n + 20)) || fail "restore $round: the pipeline does not go on ($(wc -l <"$f") lines)"
	kill_tree "$root"
	kill_pids "${pids[@]}"
	wait_gone "${pids[@]}" || fail "restore $round: restored pipeline not gone after SIGKILL"
	check_seq "$f" $((n + 19)) || fail "restore $round: gap or repeat (above)"
	ok "restore $round: $n lines at dump, $(wc -l <"$f") after, consecutive"
done
say "PASS"
