#!/usr/bin/env bash
# Restore checks that a file reopened by path is still the recorded one:
# a plain file whose size changed since the dump, or an O_APPEND file that
# shrank, is refused with a message naming the path (nothing is left
# running); an O_APPEND file that only grew (a log others append to) is
# accepted, and the restored writers append after the new end.
source "$(dirname "$0")/_common.sh"
source "$(dirname "$0")/_files.sh"
enter_pidns "$@"
setup_work

D=$WORK/chg
files_start share "$D" --lines 100000
root=$FILES_PID
files_dump "$root" "$WORK/img"
cp "$D/append.log" "$WORK/append.orig"
cp "$D/plain.log" "$WORK/plain.orig"

refused() {   # WHAT PATTERN
	if "$MINICR" restore -d "$WORK/img" >"$WORK/r.log" 2>&1; then
		TREES+=("$root")
		fail "$1: restore succeeded"
	fi
	grep -q -- "$2" "$WORK/r.log" || { cat "$WORK/r.log" >&2; fail "$1: no message matching '$2'"; }
	[[ ! -d /proc/$root ]] || fail "$1: a task was left after the refused restore"
	ok "$1 refused: $(grep -m1 -- "$2" "$WORK/r.log")"
}

echo "extra" >>"$D/plain.log"
refused "plain file grown" "plain.log has changed: size"
cp "$WORK/plain.orig" "$D/plain.log"      # same inode, old content

head -c -3 "$WORK/append.orig" >"$D/append.log"
refused "O_APPEND file shrunk" "append.log has changed: size .* (an O_APPEND file may only grow)"
cp "$WORK/append.orig" "$D/append.log"

mv "$D/plain.log" "$WORK/plain.kept"
refused "plain file gone" "plain.log is gone"
cp "$WORK/plain.orig" "$D/plain.log"      # same content, another inode
refused "plain file replaced" "plain.log is another file now"
# Put the recorded inode back is impossible: dump again from a fresh run
# for the accepted case below.
kill_tree "$root" 2>/dev/null || true

files_start share "$D" --lines 100000
root=$FILES_PID
rm -rf "$WORK/img"
files_dump "$root" "$WORK/img"
echo "999999 X" >>"$D/append.log"
before=$(wc -l <"$D/append.log")
out=$("$MINICR" restore -d "$WORK/img" 2>"$WORK/r.log") ||
	{ cat "$WORK/r.log" >&2; fail "restore refused an O_APPEND file that only grew"; }
TREES+=("$root")
for ((i = 0; i < 100; i++)); do
	(( $(wc -l <"$D/append.log") > before + 10 )) && break
	sleep 0.05
done
(( $(wc -l <"$D/append.log") > before + 10 )) || fail "the restored writers do not append"
[[ "$(sed -n "${before}p" "$D/append.log")" == "999999 X" ]] ||
	fail "the line appended between dump and restore was overwritten"
ok "an O_APPEND file that grew is accepted; the restored writers append after the new end"
kill_tree "$root"
say "PASS"
