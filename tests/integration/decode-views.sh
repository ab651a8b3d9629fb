#!/usr/bin/env bash
# minicr-decode's views of an image set (fds, mems, show --json):
#  - on the reference set (images/ref): exactly the committed
#    expected/fds.txt and expected/mems.txt;
#  - on fresh dumps of known trees: minicr-test-tree with stdout appended
#    to a file (fd 1: that path, O_WRONLY|O_APPEND, its position), a pipe
#    and a unix socketpair between a parent and a child (each end names the
#    task and fd of the other, and the data queued), minicr-test-memflags'
#    16-page lock-on-fault mapping with 2 pages touched (2 dumped, 14 not),
#    minicr-test-memshare's 16-page memfd mapped shared three times (all
#    pages in its shmem image);
#  - a damaged set gives exit 1, the file named, and no partial output;
#  - on every set: each VMA's pages are dumped + not dumped, the totals
#    agree with pagemap-PID.img and pages-PID.img, and show --json is valid
#    JSON saying what show says.
source "$(dirname "$0")/_common.sh"
: "${MINICR_TEST_PIPES:=$MINICR_BUILD_DIR/tests/workloads/minicr-test-pipes}"
: "${MINICR_TEST_SK:=$MINICR_BUILD_DIR/tests/workloads/minicr-test-sk}"
: "${MINICR_TEST_MEMFLAGS:=$MINICR_BUILD_DIR/tests/workloads/minicr-test-memflags}"
: "${MINICR_TEST_MEMSHARE:=$MINICR_BUILD_DIR/tests/workloads/minicr-test-memshare}"
enter_pidns "$@"
setup_work
for b in "$MINICR_TEST_PIPES" "$MINICR_TEST_SK" "$MINICR_TEST_MEMFLAGS" "$MINICR_TEST_MEMSHARE"; do
	[[ -x "$b" ]] || fail "missing $b"
done

REF=$ROOT/images/ref

# view DIR fds|mems: run the view into $WORK/NAME.txt (NAME = DIR's base).
view() {
	local out=$WORK/$(basename "$1").$2 rc=0
	"$MINICR_DECODE" "$2" "$1" >"$out" 2>"$WORK/view.err" || rc=$?
	((rc == 0)) || { cat "$WORK/view.err" >&2; fail "$2 $1 exited $rc"; }
	[[ ! -s "$WORK/view.err" ]] || { cat "$WORK/view.err" >&2; fail "$2 $1 warned"; }
	echo "$out"
}

# row FILE PID KEY: the row of task PID's block whose first field is KEY,
# fields joined by single spaces.
row() {
	awk -v pid="$2" -v key="$3" '
		/^task / { in_task = ($2 == pid) ; next }
		in_task && $1 == key { $1 = $1; print; exit }' "$1"
}

# want_row FILE PID KEY EXPECTED
want_row() {
	local got
	got=$(row "$1" "$2" "$3")
	[[ "$got" == "$4" ]] || fail "$(basename "$1"): task $2, $3: got '$got', want '$4'"
	ok "$(basename "$1"): task $2: $4"
}

# check_show_json DIR: show --json parses and, flattened depth first,
# prints as show does.
check_show_json() {
	"$MINICR_DECODE" show "$1" >"$WORK/show.txt" || fail "show $1 exited $?"
	"$MINICR_DECODE" show --json "$1" >"$WORK/show.json" || fail "show --json $1 exited $?"
	python3 -m json.tool "$WORK/show.json" >/dev/null || fail "show --json $1 is not JSON"
	python3 - "$WORK/show.json" >"$WORK/show-from-json.txt" <<'EOF' || fail "show --json $1: bad layout"
import json, sys
print("%7s %7s %7s %7s %-5s %7s  %s" % ("PID", "PPID", "PGID", "SID", "STATE", "THREADS", "COMMAND"))
def walk(t, depth):
    print("%7d %7d %7d %7d %-5s %7d  %s%s" % (t["pid"], t["ppid"], t["pgid"], t["sid"],
          t["state"], t["threads"], "  " * depth, t["comm"]))
    for c in t["children"]:
        walk(c, depth + 1)
for r in json.load(open(sys.argv[1]))["roots"]:
    walk(r, 0)
EOF
	diff -u "$WORK/show.txt" "$WORK/show-from-json.txt" >&2 || fail "show --json $1 differs from show"
	ok "$(basename "$1"): show --json is JSON and matches show ($(($(wc -l <"$WORK/show.txt") - 1)) tasks)"
}

# check_mems DIR: every VMA row adds up; each task's dumped pages are those
# pagemap-PID.img lists, and pages-PID.img holds exactly their bytes.
check_mems() {
	local m pid listed size line
	m=$(view "$1" mems)
	awk '/^  [0-9a-f]+-[0-9a-f]+ / && $5 != $6 + $7 { print; bad = 1 } END { exit bad }' "$m" >&2 ||
		fail "$(basename "$1"): a VMA whose pages are not dumped + not dumped"
	for f in "$1"/pagemap-*.img; do
		pid=${f##*/pagemap-}
		pid=${pid%.img}
		"$MINICR_DECODE" decode "$f" >"$WORK/pm.json" || fail "decode $f"
		listed=$(grep -o '"nr_pages":[0-9]*' "$WORK/pm.json" | awk -F: '{ n += $2 } END { print n + 0 }')
		size=$(($(stat -c %s "$1/pages-$pid.img") - 4))
		((size == listed * 4096)) || fail "pages-$pid.img: $size bytes for $listed pages"
		line=$(awk -v pid="$pid" '/^task / { in_task = ($2 == pid) } in_task && /^  total:/ { print; exit }' "$m")
		[[ "$line" == *"; $listed pages ($size bytes) dumped in pages-$pid.img,"* ]] ||
			fail "$(basename "$1"): task $pid total '$line' does not say $listed pages ($size bytes)"
	done
	ok "$(basename "$1"): mems rows and totals agree with the pagemap and pages images"
}

# link_ino PID FD: the inode in /proc/PID/fd/FD's "pipe:[INO]" or "socket:[INO]".
link_ino() {
	local t
	t=$(readlink "/proc/$1/fd/$2")
	t=${t#*:[}
	echo "${t%]}"
}

# dump_set NAME PID: dump the tree of PID into $WORK/NAME.
dump_set() {
	"$MINICR" dump -D "$WORK/$1" "$2" >"$WORK/dump.log" 2>&1 ||
		{ cat "$WORK/dump.log" >&2; fail "dump of $1 failed"; }
}

# ---- the reference set ----
for v in fds mems; do
	out=$(view "$REF" $v)
	diff -u "$REF/expected/$v.txt" "$out" >&2 || fail "$v of images/ref differs from expected/$v.txt"
	ok "$v of images/ref == expected/$v.txt"
done
check_show_json "$REF"
check_mems "$REF"

# A damaged set: exit 1, a message naming the file, and no half output.
# bad_view VIEW FILE: run VIEW on the copy of the reference set.
bad_view() {
	local rc=0
	"$MINICR_DECODE" "$1" "$WORK/bad" >"$WORK/bad.out" 2>"$WORK/bad.err" || rc=$?
	((rc == 1)) || fail "$1 of a set with a bad $2: exit $rc, want 1"
	[[ ! -s "$WORK/bad.out" ]] || fail "$1 of a set with a bad $2 printed: $(head -3 "$WORK/bad.out")"
	grep -q "$2" "$WORK/bad.err" || fail "$1: the message does not name $2: $(cat "$WORK/bad.err")"
	ok "$1 of a set with a bad $2: $(cat "$WORK/bad.err")"
}
cp -r "$REF" "$WORK/bad"
head -c 9 "$REF/fds-5.img" >"$WORK/bad/fds-5.img"
bad_view fds fds-5.img
rm "$WORK/bad/pagemap-6.img"
bad_view mems pagemap-6.img

# ---- minicr-test-tree, stdout and stderr appended to a file ----
SPAWN_OUT=$WORK/tree.out spawn_clean "$MINICR_TEST_TREE" --ready "$WORK/tree.ready"
disown "$SPAWN_PID"
TREES+=("$SPAWN_PID")
root=$SPAWN_PID
wait_for_file "$WORK/tree.ready" 30 || { cat "$WORK/tree.out" >&2; fail "tree not ready"; }
pos=$(awk '$1 == "pos:" { print $2 }' "/proc/$root/fdinfo/1")
zombie=$(for p in $(tree_pids "$root"); do
	if [[ "$(cat "/proc/$p/comm")" == zombie-exit7 ]]; then echo "$p"; fi
done)
[[ -n "$zombie" ]] || fail "no zombie-exit7 in the tree"
dump_set tree "$root"
f=$(view "$WORK/tree" fds)
want_row "$f" "$root" 0 "0 chr O_RDONLY|O_LARGEFILE 0 /dev/null"
want_row "$f" "$root" 1 "1 reg O_WRONLY|O_APPEND|O_LARGEFILE $pos $WORK/tree.out"
grep -qx "task $zombie zombie-exit7: zombie, no files" "$f" || fail "fds: zombie $zombie not said so"
grep -qx "task $zombie zombie-exit7: zombie, no memory" "$(view "$WORK/tree" mems)" ||
	fail "mems: zombie $zombie not said so"
ok "the zombie has no files and no memory"
check_show_json "$WORK/tree"
check_mems "$WORK/tree"

# fd_on PID TARGET: the fd of PID open on TARGET (e.g. pipe:[123]).
fd_on() {
	local l
	for l in /proc/"$1"/fd/*; do
		[[ "$(readlink "$l")" == "$2" ]] && { echo "${l##*/}"; return 0; }
	done
	return 1
}
# other_end PID CHILD KIND: "PARENT_FD CHILD_FD PARENT_INO CHILD_INO" of
# the KIND (pipe or socket) joining them.
other_end() {
	local l t cfd
	for l in /proc/"$1"/fd/*; do
		t=$(readlink "$l")
		[[ "$t" == "$3:["* ]] || continue
		if [[ $3 == pipe ]]; then
			cfd=$(fd_on "$2" "$t") || continue
			echo "${l##*/} $cfd"
			return 0
		fi
		echo "${l##*/} $t"
		return 0
	done
	return 1
}

# start_wl NAME CMD...: start a workload whose directory is $WORK/wl-NAME
# and wait until it writes ready (or $WL_READY) there.
start_wl() {
	local name=$1 d=$WORK/wl-$1
	shift
	mkdir -p "$d"
	SPAWN_OUT=$d/log spawn_clean "$@"
	disown "$SPAWN_PID"
	TREES+=("$SPAWN_PID")
	wait_for_file "$d/${WL_READY:-ready}" 20 || { cat "$d/log" >&2; fail "$name not ready"; }
}

# ---- a pipe between a parent and a child, 1000 bytes queued ----
start_wl pipe "$MINICR_TEST_PIPES" --dir "$WORK/wl-pipe"
read -r parent child <"$WORK/wl-pipe/ready"
read -r pfd cfd < <(other_end "$parent" "$child" pipe) || fail "no pipe between $parent and $child"
ino=$(link_ino "$parent" "$pfd")
dump_set pipe "$parent"
f=$(view "$WORK/pipe" fds)
want_row "$f" "$parent" "$pfd" \
	"$pfd pipe O_RDONLY 0 pipe:[$ino] other end: task $child fd $cfd (1000 bytes queued)"
want_row "$f" "$child" "$cfd" "$cfd pipe O_WRONLY|O_NONBLOCK 0 pipe:[$ino] other end: task $parent fd $pfd"
check_mems "$WORK/pipe"

# ---- a unix stream socketpair between a parent and a child ----
start_wl sk "$MINICR_TEST_SK" --dir "$WORK/wl-sk" --mode stream
read -r parent child <"$WORK/wl-sk/ready"
read -r pfd _ < <(other_end "$parent" "$child" socket) || fail "no socket in $parent"
read -r cfd _ < <(other_end "$child" "$parent" socket) || fail "no socket in $child"
pino=$(link_ino "$parent" "$pfd")
cino=$(link_ino "$child" "$cfd")
dump_set sk "$parent"
f=$(view "$WORK/sk" fds)
want_row "$f" "$parent" "$pfd" \
	"$pfd unix_sk O_RDWR 0 unix:[$pino] stream peer unix:[$cino] task $child fd $cfd (1000 bytes queued)"
want_row "$f" "$child" "$cfd" \
	"$cfd unix_sk O_RDWR 0 unix:[$cino] stream peer unix:[$pino] task $parent fd $pfd (300 bytes queued)"

# ---- a 16-page lock-on-fault mapping with 2 pages touched ----
start_wl mem "$MINICR_TEST_MEMFLAGS" "$WORK/wl-mem"
pid=$SPAWN_PID
range=$(awk '/^[0-9a-f]+-[0-9a-f]+ / { r = $1 } /^VmFlags:/ && / lf/ { print r; exit }' "/proc/$pid/smaps")
[[ -n "$range" ]] || fail "no lock-on-fault VMA in $pid"
dump_set mem "$pid"
m=$(view "$WORK/mem" mems)
want_row "$m" "$pid" "$range" "$range 64 rw- private 16 2 14 [anon]"
check_mems "$WORK/mem"

# ---- a 16-page memfd mapped shared by a parent and (twice) its child ----
WL_READY=ready.parent start_wl shm "$MINICR_TEST_MEMSHARE" "$WORK/wl-shm"
pid=$SPAWN_PID
wait_for_file "$WORK/wl-shm/ready.child" 20 || fail "memshare's child not ready"
child=$(cat "/proc/$pid/task/$pid/children")
dump_set shm "$pid"
m=$(view "$WORK/shm" mems)
n=0
for p in "$pid" $child; do
	rows=$(awk -v pid="$p" '/^task / { in_task = ($2 == pid); next }
		in_task && / \/memfd:pool / { $1 = ""; $1 = $1; print }' "$m")
	while read -r row; do
		[[ "$row" =~ ^"64 rw- shared 16 16 0 /memfd:pool (deleted) (pages in shmem-"[0-9]+".img)"$ ]] ||
			fail "shm.mems: task $p: '$row', want 64 KiB shared, all 16 pages in a shmem image"
		n=$((n + 1))
	done <<<"$rows"
done
((n == 3)) || fail "shm.mems: $n memfd mappings, want 3 (parent 1, child 2)"
ok "shm.mems: the memfd's 3 mappings have their 16 pages in the shmem image"
check_mems "$WORK/shm"
say "PASS"
