#!/usr/bin/env bash
# Deleted-but-open files and memfds: a 1 MiB file unlinked while open (at
# position 12345, with a dup sharing it, and a second read-only open of it
# that must stay the same file), a write-only O_APPEND one, an
# O_TMPFILE file and a sealed memfd. Their content is saved in ghost-ID.img; after restore each is an
# unlinked file with the same content, position, name (memfd) and seals
# (tests/workloads/files_work.c, mode ghost). A deleted file above the
# 64 MiB limit (of data: holes cost nothing) makes the dump fail with a
# clear message, the tree running on.
source "$(dirname "$0")/_common.sh"
source "$(dirname "$0")/_files.sh"
enter_pidns "$@"
setup_work

D=$WORK/ghost
files_start ghost "$D"
root=$FILES_PID
files_dump "$root" "$WORK/img"
n=$(ls "$WORK/img"/ghost-*.img | wc -l)
((n == 4)) || fail "expected 4 ghost images (2 deleted files, O_TMPFILE file, memfd), found $n"
ok "dump saved 4 ghost images ($(du -ch "$WORK/img"/ghost-*.img | tail -1 | cut -f1))"
[[ -z "$(ls "$D" | grep -v '^log$\|^ready$')" ]] || fail "the deleted files are visible in $D: $(ls "$D")"

out=$("$MINICR" restore -d "$WORK/img" 2>"$WORK/restore.log") ||
	{ cat "$WORK/restore.log" >&2; fail "minicr restore failed"; }
[[ "$out" == "$root" ]] || fail "restore printed root $out, expected $root"
TREES+=("$root")
[[ -z "$(ls "$D" | grep -v '^log$\|^ready$')" ]] || fail "restore left names in $D: $(ls "$D")"
touch "$D/verify"
wait_for_file "$D/result" 20 || { cat "$D/log" >&2; fail "the restored workload wrote no result"; }
files_result "$D"
ok "restored deleted files, O_TMPFILE file and memfd verified"

# Too big: refused at dump, naming the fd; the tree goes on.
big=$WORK/big
mkdir -p "$big"
cat >"$big/hold.py" <<'PY'
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
os.write(fd, b"x" * (65 << 20))  # data: a sparse file of any size is fine
os.unlink(sys.argv[1])
open(sys.argv[1] + ".ready", "w").close()
time.sleep(60)
PY
files_spawn python3 "$big/hold.py" "$big/huge"
bigpid=$FILES_PID
wait_for_file "$big/huge.ready" 10 || fail "the big-file holder did not start"
if "$MINICR" dump -D "$WORK/img-big" "$bigpid" >"$WORK/dump-big.log" 2>&1; then
	fail "dump of a task with a 65 MiB deleted file succeeded"
fi
grep -q "up to 64 MiB" "$WORK/dump-big.log" || { cat "$WORK/dump-big.log" >&2; fail "no clear message about the size limit"; }
[[ -d /proc/$bigpid ]] || fail "the refused tree did not keep running"
ok "a 65 MiB deleted file is refused: $(grep -m1 'up to 64 MiB' "$WORK/dump-big.log")"
say "PASS"
