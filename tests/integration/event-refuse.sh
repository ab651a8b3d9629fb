#!/usr/bin/env bash
# What minicr cannot restore of inotify, fanotify and pidfd files makes
# dump refuse before anything is written, naming the task, the fd and the
# state; the task goes on running, untraced: an inotify instance with
# events queued, a watch on a deleted file, a fanotify mark with
# permission events, a pidfd of a task outside the dumped tree.
source "$(dirname "$0")/_common.sh"
enter_pidns "$@"
setup_work

cat >"$WORK/hold.py" <<'PY'
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
mode, d = sys.argv[1], sys.argv[2]
if mode == "inotify-queued":
    # Creates in d are queued and never read.
    fd = libc.inotify_init1(0)
    assert libc.inotify_add_watch(fd, d.encode(), 0x100) > 0
elif mode == "inotify-deleted":
    keep = os.open(d + "/gone", os.O_CREAT | os.O_RDWR)
    fd = libc.inotify_init1(os.O_NONBLOCK)
    assert libc.inotify_add_watch(fd, (d + "/gone").encode(), 0x2) > 0
    os.unlink(d + "/gone")
    time.sleep(0.1)
    try:
        os.read(fd, 4096)   # IN_ATTRIB of the unlink: the queue is empty again
    except BlockingIOError:
        pass
elif mode == "fanotify-perm":
    open(d + "/private", "w").close()
    fd = libc.fanotify_init(0x4, os.O_RDONLY)            # FAN_CLASS_CONTENT
    assert fd >= 0
    assert libc.fanotify_mark(fd, 1, ctypes.c_uint64(0x10000), -100,
                              (d + "/private").encode()) == 0   # FAN_OPEN_PERM
elif mode == "pidfd-outside":
    fd = os.pidfd_open(os.getppid())
with open(d + "/fd", "w") as f:
    f.write("%d\n" % fd)
n = 0
while True:
    n += 1
    with open(d + "/beat.tmp", "w") as f:
        f.write("%d\n" % n)
    os.rename(d + "/beat.tmp", d + "/beat")
    time.sleep(0.05)
PY

# refused MODE PATTERN: the dump of a holder in MODE fails with PATTERN
# (with TASK and FD replaced) and the holder goes on.
refused() {
	local mode=$1 pattern=$2 pid fd b0 d=$WORK/$1
	mkdir -p "$d"
	spawn_clean python3 "$WORK/hold.py" "$mode" "$d"
	pid=$SPAWN_PID
	TREES+=("$pid")
	wait_for_file "$d/beat" 20 || fail "$mode: workload did not start"
	fd=$(cat "$d/fd")
	pattern=${pattern//TASK/$pid}
	pattern=${pattern//FD/$fd}
	if "$MINICR" dump -D "$d/img" "$pid" >"$d/dump.log" 2>&1; then
		fail "$mode: dump succeeded"
	fi
	cat "$d/dump.log"
	grep -q -E "$pattern" "$d/dump.log" || fail "$mode: the refusal does not say '$pattern'"
	[[ ! -e "$d/img/inventory.img" ]] || fail "$mode: inventory.img written"
	check_untraced "$pid" || fail "$mode: task left traced"
	b0=$(cat "$d/beat")
	sleep 0.5
	(($(cat "$d/beat") > b0)) || fail "$mode: the task does not go on after the refused dump"
	ok "$mode refused, the task goes on"
}

refused inotify-queued "task TASK: fd FD \(inotify\) has [0-9]+ bytes of events queued"
refused inotify-deleted "task TASK: fd FD \(inotify\) watches inode [0-9]+ .*deleted file"
refused fanotify-perm "task TASK: fd FD \(fanotify\) has a mark with permission events"
refused pidfd-outside "task TASK: fd FD is a pidfd of process [0-9]+, which is outside the dumped tree"
say "PASS"
