# minicr dump --stream writes the whole image set to stdout and nothing
# else; minicr restore --stream restores it from stdin. A stream that is
# empty, not a stream, cut inside a file, cut between two files (no end
# record) or with a flipped byte is refused naming what is wrong, and no
# task is created. A reader that goes away mid-dump fails the dump and the
# tree goes on. (The migrate flavor of every scenario streams too.)
FLAVORS="host pidns"

# refused WHAT PATTERN FILE: restore --stream <FILE fails matching PATTERN
refused() {
	procs "$S/procs.before"
	expect_fail "$1" "$2" "$MINICR" restore --stream -d $(restore_args) <"$3"
	[[ ! -s "$S/out" ]] || fail "$1: printed a root PID"
	no_new_tasks "$1" "$S/procs.before"
	ok "$1: refused, no task created"
}

# cut_at FILE N: the offset where file N (1-based) of the stream FILE
# starts, or the end record if N is past the last; its name on stdout too
cut_at() {
	python3 -c '
import struct, sys
d = open(sys.argv[1], "rb").read()
off, n = 12, 0
while True:
    (ln,) = struct.unpack_from("<I", d, off)
    n += 1
    if ln == 0 or n == int(sys.argv[2]):
        print(off, d[off + 4:off + 4 + ln].decode() or "end")
        break
    (sz,) = struct.unpack_from("<Q", d, off + 4 + ln)
    off += 4 + ln + 8 + sz + 8' "$@"
}

scenario_main() {
	local sz off name pages rc=0
	small_tree
	tree_shape "$ROOT" >"$S/intact"

	expect_fail_usage() {
		"$MINICR" dump --stream -D "$S/x" "$DUMP_PID" >"$S/out" 2>"$S/err" || rc=$?
		((rc == 2)) || fail "dump --stream -D: exited $rc, want 2"
	}
	expect_fail_usage
	ok "dump --stream with -D is a usage error"

	# A reader that closes early: the dump fails, the tree goes on.
	rc=0
	"$MINICR" dump --stream "$DUMP_PID" 2>"$S/err" | head -c 100 >/dev/null || true
	grep -q "cannot write" "$S/err" || { cat "$S/err" >&2; fail "no write error when the reader went away"; }
	tree_intact "a dump whose reader went away"
	ok "the reader went away: the dump failed ($(grep -m1 'cannot write' "$S/err")), the tree runs on"

	"$MINICR" dump --stream "$DUMP_PID" >"$S/stream" 2>"$S/dump.log" ||
		{ cat "$S/dump.log" >&2; fail "minicr dump --stream failed"; }
	wait_gone "${TREE[@]}"
	[[ "$(head -c 8 "$S/stream")" == MCSTREAM ]] || fail "stdout does not start with the stream header"
	read -r off name <<<"$(cut_at "$S/stream" 999)"
	[[ $name == end ]] || fail "no end record found"
	sz=$(stat -c %s "$S/stream")
	((sz == off + 12)) || fail "stdout has $((sz - off - 12)) bytes after the end record"
	ok "stdout holds the stream and nothing else ($sz bytes)"

	: >"$S/empty"
	refused "an empty stream" "stream: truncated in its header: 0 of 12" "$S/empty"
	echo "not a stream at all" >"$S/junk"
	refused "not a stream" "not a minicr stream" "$S/junk"
	pages=pages-${TREE[1]}.img
	read -r off name <<<"$(cut_at "$S/stream" 999)"
	head -c "$off" "$S/stream" >"$S/cut-end"
	refused "cut before the end record" "ends after [0-9]+ files \(the last inventory\.img\) with no end record" "$S/cut-end"
	for ((i = 1; ; i++)); do
		read -r off name <<<"$(cut_at "$S/stream" "$i")"
		[[ $name == "$pages" || $name == end ]] && break
	done
	[[ $name == "$pages" ]] || fail "no $pages in the stream"
	head -c $((off + 4 + ${#name} + 8 + 5000)) "$S/stream" >"$S/cut-mid"
	refused "cut inside $pages" "stream: truncated in $pages: [0-9]+ of [0-9]+ bytes" "$S/cut-mid"
	head -c "$off" "$S/stream" >"$S/cut-between"
	refused "cut between two files" "with no end record" "$S/cut-between"
	cp "$S/stream" "$S/flipped"
	printf 'Z' | dd of="$S/flipped" bs=1 seek=$((off + 4 + ${#name} + 8 + 4100)) conv=notrunc status=none
	refused "a flipped byte in $pages" "stream: $pages: its bytes hash to .* corrupt" "$S/flipped"

	local out
	out=$("$MINICR" restore --stream -d $(restore_args) <"$S/stream" 2>"$S/restore.log") ||
		{ cat "$S/restore.log" >&2; fail "minicr restore --stream failed"; }
	[[ $FLAVOR == pidns ]] || [[ $out == "$ROOT" ]] || fail "restore printed root $out, want $ROOT"
	[[ $FLAVOR != pidns ]] || ROOT=$out
	STARTED+=("$ROOT")
	tree_shape "$ROOT" >"$S/shape.now"
	diff -u "$S/intact" "$S/shape.now" >&2 || fail "the stream restores another tree"
	ok "the intact stream restores the same tree"
}
