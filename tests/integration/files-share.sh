#!/usr/bin/env bash
# Open file descriptions shared across fds and tasks: a parent and its child
# write lines in turn to an O_APPEND file and to a plain file whose offset
# they share (inherited across fork, plus a dup in the parent). Dumped in
# the middle and restored, they go on: no line may be lost, duplicated or
# overwritten in either file (tests/workloads/files_work.c, mode share). The
# images must record the plain file once, for three fds in two tasks.
source "$(dirname "$0")/_common.sh"
source "$(dirname "$0")/_files.sh"
enter_pidns "$@"
setup_work

D=$WORK/share
files_start share "$D" --lines 1500
root=$FILES_PID
files_dump "$root" "$WORK/img"
lines=$(wc -l <"$D/plain.log")
say "dumped after $lines of 1500 lines"
((lines < 1500)) || fail "the workload finished before the dump; nothing to test"

n=$("$MINICR_DECODE" decode "$WORK/img/files.img" | python3 -c '
import json, sys
print(sum(1 for e in json.load(sys.stdin)["entries"] if e.get("path", "").endswith("/plain.log")))')
[[ "$n" == 1 ]] || fail "files.img records plain.log $n times, expected once"
ok "files.img records plain.log once"

rc=0
timeout 60 "$MINICR" restore "$WORK/img" >"$WORK/restore.log" 2>&1 || rc=$?
((rc == 0)) || { cat "$WORK/restore.log" "$D/log" >&2; fail "minicr restore exited $rc"; }
files_result "$D"
ok "restored parent and child finished 1500 lines in both files, none lost or repeated"
say "PASS"
