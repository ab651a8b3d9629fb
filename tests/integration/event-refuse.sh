#!/usr/bin/env bash
# An fd minicr has no kind for (an inotify instance) makes dump refuse
# before anything is written, naming the task and the fd; the task goes on
# running, untraced.
source "$(dirname "$0")/_common.sh"
enter_pidns "$@"
setup_work

cat >"$WORK/ino.py" <<'PY'
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(0)
assert fd >= 0
libc.inotify_add_watch(fd, sys.argv[1].encode(), 0x100)
with open(sys.argv[1] + "/fd", "w") as f:
    f.write("%d\n" % fd)
n = 0
while True:
    n += 1
    with open(sys.argv[1] + "/beat.tmp", "w") as f:
        f.write("%d\n" % n)
    os.rename(sys.argv[1] + "/beat.tmp", sys.argv[1] + "/beat")
    time.sleep(0.05)
PY
mkdir -p "$WORK/d"
spawn_clean python3 "$WORK/ino.py" "$WORK/d"
pid=$SPAWN_PID
TREES+=("$pid")
wait_for_file "$WORK/d/beat" 20 || fail "inotify workload did not start"
fd=$(cat "$WORK/d/fd")
if "$MINICR" dump -D "$WORK/img" "$pid" >"$WORK/dump.log" 2>&1; then
	fail "dump of a task holding an inotify fd succeeded"
fi
cat "$WORK/dump.log"
grep -q "task $pid: fd $fd is an anon_inode file (anon_inode:inotify)" "$WORK/dump.log" ||
	fail "the refusal does not name task $pid, fd $fd and what it is"
[[ ! -e "$WORK/img/inventory.img" ]] || fail "inventory.img written"
check_untraced "$pid" || fail "task left traced"
b0=$(cat "$WORK/d/beat")
sleep 0.5
(($(cat "$WORK/d/beat") > b0)) || fail "the task does not go on after the refused dump"
ok "inotify fd refused, the task goes on"
say "PASS"
