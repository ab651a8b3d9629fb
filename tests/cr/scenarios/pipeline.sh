# A shell pipeline: a bash producer writes 1, 2, 3... into a pipe, a bash
# consumer reads them and appends each to a file. After the restore the
# file goes on without a gap or a repeated number: the pipe and whatever it
# held at dump time came back. The file is put back as it was at dump time.
FLAVORS="host pidns migrate"
SHAPE_CHECK=root
WORKLOAD=(bash -c 'i=0; while :; do i=$((i + 1)); echo $i; sleep 0.02; done |
	while read -r n; do echo "$n" >>"$1"; done' pipeline "$S/counter")

lines() { wc -l <"$S/counter" 2>/dev/null || echo 0; }
ready() { (($(lines) >= 20)); }
counter_ok() {   # counter_ok MIN: the file is exactly 1..N with N > MIN
	awk -v min="$1" '$0 != NR { printf "line %d is \"%s\"\n", NR, $0; bad = 1; exit }
		END { if (!bad && NR <= min) { printf "%d lines, want more than %d\n", NR, min; bad = 1 }
		      exit bad }' "$S/counter" >&2
}
check_before() {
	local p n=0
	for p in $(tree_pids "$ROOT"); do
		ls -l "/proc/$p/fd" 2>/dev/null | grep -q 'pipe:' && n=$((n + 1))
	done
	((n >= 2)) || { echo "no pipe between the tasks" >&2; return 1; }
}
before_restore() {
	N=$(lines)
	counter_ok 0
}
check_after() {
	wait_until 10 counter_ok $((N + 20)) || { counter_ok $((N + 20)); return 1; }
	say "counted on from $N to $(tail -n1 "$S/counter") through the restored pipe"
}
