# -o FILE and --progress on a 3-task tree holding 48 MiB of anonymous
# memory (python3 and two `sleep`s):
#  - dump --leave-running -o FILE -vv: stderr empty; FILE has
#    "(SS.UUUUUU) PID: ..." lines naming every task
#  - dump -o FILE -v --progress: stderr holds only progress lines, the last
#    one "dump: 3 tasks frozen, X MiB written, ..." with X the pages of
#    stats-dump.img (at least the 48 MiB)
#  - restore -o FILE -vv --progress: stdout the root PID, stderr only
#    "restore: 3/3 tasks, X MiB restored" lines (X from stats-restore.img);
#    FILE has the lines of the task bodies restore forked ("PID: step N"
#    for every task), steps in order
#  - restores that fail (a pages image truncated; host: the PIDs taken by
#    the tree just restored) print their errors on stderr, untimestamped,
#    and the same lines with timestamps in FILE
FLAVORS="host pidns"

STAMP='^\([0-9]{2,}\.[0-9]{6}\) '

# progress_lines FILE: its lines, "\r" ending one too, empty ones left out
progress_lines() {
	tr '\r' '\n' <"$1" | sed '/^$/d'
}

# stat_mib IMAGE FIELD: FIELD of a stats image, in MiB with one decimal
stat_mib() {
	"$MINICR_DECODE" decode "$1" |
		python3 -c 'import json, sys; print("%.1f" % (int(json.load(sys.stdin)["entries"][0][sys.argv[1]]) * 4096 / 1048576))' "$2"
}

# names_tasks LOG WHAT: LOG has a timestamped line naming each task of TREE
names_tasks() {
	local p
	for p in "${TREE[@]}"; do
		grep -Eq "$STAMP$p: $2" "$1" || fail "$1: no timestamped line '$p: $2...'"
	done
}

# failed_restore WHAT PATTERN DIR: restore -o FILE fails with PATTERN on
# stderr; stderr has no timestamps and its every line is in FILE.
failed_restore() {
	local what=$1 pat=$2 dir=$3 log=$S/fail.log l
	rm -f "$log"
	expect_fail "$what" "$pat" "$MINICR" restore -d $(restore_args) -o "$log" -v "$dir"
	[[ -s "$log" ]] || fail "$what: no log file"
	! grep -Eq "$STAMP" "$S/err" || fail "$what: timestamps on stderr"
	while IFS= read -r l; do
		l=${l#minicr: }
		grep -Fq -- ") $l" "$log" || grep -Fq -- ": $l" "$log" ||
			fail "$what: stderr line '$l' is not in the log file"
	done <"$S/err"
	grep -Eq "$STAMP.*$pat" "$log" || fail "$what: the log file has no timestamped /$pat/"
	ok "$what: error on stderr and, timestamped, in the log file"
}

scenario_main() {
	local last mib want
	flavor_spawn python3 -c '
import subprocess, sys, time
b = bytearray(48 << 20)
for i in range(0, len(b), 4096):
    b[i] = 1
kids = [subprocess.Popen(["sleep", "1000"]) for _ in range(2)]
open(sys.argv[1] + ".tmp", "w").close()
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    time.sleep(1000)
' "$S/ready"
	STARTED+=("$ROOT")
	wait_until 20 test -e "$S/ready" || { cat "$S/wl.log" >&2; fail "the workload did not start"; }
	wait_until 10 eval '(($(tree_pids "$ROOT" | wc -l) == 3))' || fail "the tree does not have 3 tasks"
	mapfile -t TREE < <(tree_pids "$ROOT")
	tree_shape "$ROOT" >"$S/shape.before"

	# Without --progress, -o takes every message: stderr stays empty.
	"$MINICR" dump --leave-running -D "$S/img0" -o "$S/dump0.log" -vv "$DUMP_PID" 2>"$S/dump0.err" ||
		{ cat "$S/dump0.err" >&2; fail "dump --leave-running -o failed"; }
	[[ ! -s "$S/dump0.err" ]] || { cat -A "$S/dump0.err" >&2; fail "dump -o: stderr not empty"; }
	grep -Eq "${STAMP}freezing the tree of $DUMP_PID" "$S/dump0.log" ||
		{ cat "$S/dump0.log" >&2; fail "dump -o: no timestamped 'freezing' line"; }
	names_tasks "$S/dump0.log" ""
	! grep -Ev "$STAMP" "$S/dump0.log" || fail "dump -o: lines without timestamp"
	ok "dump -o FILE -vv: stderr empty, $(wc -l <"$S/dump0.log") timestamped lines naming all ${#TREE[@]} tasks"

	"$MINICR" dump -D "$SRC_IMG" -o "$S/dump.log" -v --progress "$DUMP_PID" 2>"$S/dump.err" ||
		{ cat "$S/dump.err" >&2; fail "dump --progress failed"; }
	wait_gone "${TREE[@]}"
	! progress_lines "$S/dump.err" | grep -v '^dump: ' || fail "dump --progress: other lines on stderr"
	last=$(progress_lines "$S/dump.err" | tail -n 1)
	[[ "$(tail -c 1 "$S/dump.err" | od -An -c | tr -d ' ')" == '\n' ]] || fail "dump --progress: the line is not ended"
	mib=$(stat_mib "$SRC_IMG/stats-dump.img" pages_written)
	[[ "$last" =~ ^dump:\ 3\ tasks\ frozen,\ ${mib}\ MiB\ written,\ [0-9.]+\ MiB/s$ ]] ||
		fail "dump --progress: last line '$last', want 3 tasks and $mib MiB"
	python3 -c 'import sys; sys.exit(not 48 <= float(sys.argv[1]) <= 96)' "$mib" ||
		fail "dump: $mib MiB of pages written for a tree holding 48 MiB"
	ok "dump --progress: '$last' ($(progress_lines "$S/dump.err" | wc -l) updates)"

	move_images
	rm -f "$S/restore.log"
	local out
	out=$("$MINICR" restore -d $(restore_args) -o "$S/restore.log" -vv --progress "$DST_IMG" \
		2>"$S/restore.err") || { cat "$S/restore.err" >&2; fail "restore failed"; }
	ROOT=$out
	STARTED+=("$ROOT")
	[[ "$out" =~ ^[0-9]+$ ]] || fail "restore printed '$out', not a PID"
	! progress_lines "$S/restore.err" | grep -v '^restore: ' || fail "restore --progress: other lines on stderr"
	last=$(progress_lines "$S/restore.err" | tail -n 1)
	mib=$(stat_mib "$DST_IMG/stats-restore.img" pages_restored)
	[[ "$last" == "restore: 3/3 tasks, $mib MiB restored" ]] ||
		fail "restore --progress: last line '$last', want 3/3 tasks and $mib MiB"
	ok "restore --progress: '$last'"

	names_tasks "$S/restore.log" "step "
	! grep -Ev "$STAMP" "$S/restore.log" || fail "restore -o: lines without timestamp"
	grep -Eo "$STAMP[0-9]+: step [0-9]+" "$S/restore.log" | awk '{ print $NF }' >"$S/steps"
	sort -n -c "$S/steps" || fail "restore -o: the steps of the task bodies are out of order"
	ok "restore -o FILE: every task body's steps, $(wc -l <"$S/steps") in order"
	tree_shape "$ROOT" >"$S/shape.now"
	diff -u "$S/shape.before" "$S/shape.now" >&2 || fail "the restored tree has another shape"
	ok "restored tree has the dumped shape"

	if [[ $FLAVOR == host ]]; then
		failed_restore "restore while the PIDs are taken" "PID [0-9]+ is taken" "$DST_IMG"
	fi
	kill_tree "$ROOT"
	wait_gone "${TREE[@]}" || true
	cp -a "$DST_IMG" "$S/bad"
	truncate -s 8192 "$S/bad/pages-${TREE[0]}.img"
	failed_restore "restore of a truncated pages image" "pages-${TREE[0]}\.img" "$S/bad"
}
