#!/usr/bin/env bash
# minicr restore of real programs, not ours, with each PID method and the
# same images restored twice (the first restored tree killed in between):
#  - `sleep 1000` keeps its PID, command line and fds and sleeps on (still
#    asleep in nanosleep well after the restore); restored without -d,
#    minicr writes the pidfile, waits for the root and exits 143 when it
#    dies of SIGTERM;
#  - a `bash -c` loop that appends a counter to a file (forking `sleep 0.1`
#    each time) carries on: the file goes on 1, 2, 3... without a gap or a
#    repeated number. The file is not part of the images: before each
#    restore it is put back as it was at dump time.
source "$(dirname "$0")/_common.sh"
enter_pidns "$@"
setup_work

# syscall_nr PID: the number of the system call the task is blocked in
syscall_nr() { awk '{ print $1 }' "/proc/$1/syscall" 2>/dev/null; }

# wait_syscall PID NR...: until the task sleeps in one of these syscalls (5 s)
wait_syscall() {
	local p=$1 i n
	shift
	for ((i = 0; i < 100; i++)); do
		n=$(syscall_nr "$p")
		[[ " $* " == *" $n "* ]] && return 0
		sleep 0.05
	done
	return 1
}

# check_counter FILE MIN: lines are exactly 1..N with N > MIN
check_counter() {
	awk -v min="$2" '$0 != NR { printf "line %d is \"%s\"\n", NR, $0; bad = 1; exit }
		END { if (!bad && NR <= min) { printf "%d lines, want more than %d\n", NR, min; bad = 1 }
		      exit bad }' "$1" >&2
}

for method in clone3 ns_last_pid; do
	# ---- sleep 1000
	spawn_clean sleep 1000
	p=$SPAWN_PID
	disown "$p"
	TREES+=("$p")
	wait_syscall "$p" 35 230 || fail "sleep 1000 ($p) is not in nanosleep"
	img=$WORK/img-sleep-$method
	"$MINICR" dump -D "$img" "$p" || fail "minicr dump of sleep 1000 failed"
	wait_gone "$p" || fail "sleep 1000 not killed by the dump"
	for round in 1 2; do
		out=$("$MINICR" restore -d --pid-method="$method" "$img") || fail "restore $round of sleep 1000 ($method) failed"
		[[ "$out" == "$p" ]] || fail "restore printed '$out', want $p"
		[[ "$(cat /proc/$p/comm 2>/dev/null)" == sleep ]] || fail "PID $p is not sleep after restore"
		[[ "$(tr '\0' ' ' </proc/$p/cmdline)" == "sleep 1000 " ]] || fail "PID $p cmdline '$(tr '\0' ' ' </proc/$p/cmdline)'"
		check_untraced "$p" || fail "sleep 1000 left traced"
		sleep 1
		st=$(awk '{ sub(/.*\) /, ""); print $1 }' /proc/$p/stat 2>/dev/null) || st=gone
		[[ "$st" == S ]] || fail "restored sleep 1000: state '$st' after 1 s, want S"
		wait_syscall "$p" 35 230 || fail "restored sleep 1000 is not back in nanosleep (syscall $(syscall_nr "$p"))"
		fds=$(ls /proc/$p/fd | sort -n | xargs)
		[[ "$fds" == "0 1 2" ]] || fail "restored sleep 1000 has fds '$fds', want '0 1 2'"
		ok "sleep 1000, $method, restore $round: PID $p, fds 0 1 2, asleep in nanosleep 1 s later"
		kill_pids "$p"
		wait_gone "$p" || fail "restored sleep 1000 not gone after SIGKILL"
	done
	# Without -d, minicr waits for the root and exits with its status; the
	# pidfile names the root.
	rm -f "$WORK/pidfile"
	"$MINICR" restore --pid-method="$method" --pidfile "$WORK/pidfile" "$img" &
	m=$!
	wait_for_file "$WORK/pidfile" 10 || fail "minicr restore --pidfile wrote no pidfile"
	[[ "$(cat "$WORK/pidfile")" == "$p" ]] || fail "pidfile says '$(cat "$WORK/pidfile")', want $p"
	sleep 0.3
	kill -0 "$m" 2>/dev/null || fail "minicr restore without -d did not wait for the root"
	kill -TERM "$p"
	rc=0
	wait "$m" || rc=$?
	((rc == 143)) || fail "minicr restore without -d exited $rc after SIGTERM to the root, want 143"
	wait_gone "$p" || fail "sleep 1000 not gone after SIGTERM"
	ok "sleep 1000, $method, restore without -d: pidfile $p, minicr exits 143 when the root dies of SIGTERM"

	# ---- bash -c loop appending a counter
	f=$WORK/counter-$method
	: >"$f"
	spawn_clean bash -c 'i=0; while :; do i=$((i + 1)); echo $i >>"$1"; sleep 0.1; done' loop "$f"
	b=$SPAWN_PID
	disown "$b"
	TREES+=("$b")
	for ((i = 0; i < 100; i++)); do
		(($(wc -l <"$f") >= 5)) && break
		sleep 0.05
	done
	(($(wc -l <"$f") >= 5)) || fail "the bash loop did not count"
	mapfile -t bpids < <(tree_pids "$b")
	img=$WORK/img-bash-$method
	"$MINICR" dump -D "$img" "$b" || fail "minicr dump of the bash loop failed"
	wait_gone "${bpids[@]}" || fail "the bash loop not killed by the dump"
	cp "$f" "$f.at-dump"
	n=$(wc -l <"$f")
	check_counter "$f" 0 || fail "counter file at dump time is not 1..$n"
	"$MINICR_DECODE" show "$img" | sed 's/^/    /'
	for round in 1 2; do
		cp "$f.at-dump" "$f"
		out=$("$MINICR" restore -d --pid-method="$method" "$img") || fail "restore $round of the bash loop ($method) failed"
		[[ "$out" == "$b" ]] || fail "restore printed '$out', want $b"
		sleep 1.5
		[[ "$(cat /proc/$b/comm 2>/dev/null)" == bash ]] || fail "PID $b is not bash after restore"
		check_counter "$f" $((n + 5)) || fail "bash loop, $method, restore $round: the counter did not go on from $n without a gap (above)"
		ok "bash loop, $method, restore $round: PID $b counted on from $n to $(tail -n1 "$f") without a gap"
		mapfile -t rpids < <(tree_pids "$b")
		kill_tree "$b"
		wait_gone "${rpids[@]}" || fail "restored bash loop not gone after SIGKILL"
	done
done
say "PASS"
