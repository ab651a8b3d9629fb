# A bash loop that appends a counter to a file, forking `sleep 0.1` each
# turn, goes on after the restore without a gap or a repeated number. The
# file is not in the images: it is put back as it was at dump time.
FLAVORS="host pidns migrate"
SHAPE_CHECK=root
WORKLOAD=(bash -c 'i=0; while :; do i=$((i + 1)); echo $i >>"$1"; sleep 0.1; done' loop "$S/counter")

lines() { wc -l <"$S/counter" 2>/dev/null || echo 0; }
ready() { (($(lines) >= 5)); }
# counter_ok MIN: the file is exactly 1..N with N > MIN
counter_ok() {
	awk -v min="$1" '$0 != NR { printf "line %d is \"%s\"\n", NR, $0; bad = 1; exit }
		END { if (!bad && NR <= min) { printf "%d lines, want more than %d\n", NR, min; bad = 1 }
		      exit bad }' "$S/counter" >&2
}
before_restore() {
	cp "$S/counter" "$S/counter.at-dump"
	N=$(lines)
	counter_ok 0
}
check_after() {
	wait_until 10 counter_ok $((N + 5)) || { counter_ok $((N + 5)); return 1; }
	say "counted on from $N to $(tail -n1 "$S/counter") without a gap"
}
