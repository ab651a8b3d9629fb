#!/usr/bin/env bash
# File locks held at dump time are held again after restore: a flock on
# flock.dat (flock -n from outside must fail while the restored task runs,
# and succeed once it is gone) and a POSIX lock on bytes 10..19 of
# posix.dat that a child of the restored task sees as its parent's
# (tests/workloads/files_work.c, mode lock).
source "$(dirname "$0")/_common.sh"
source "$(dirname "$0")/_files.sh"
enter_pidns "$@"
setup_work

D=$WORK/lock
files_start lock "$D"
root=$FILES_PID
flock -n "$D/flock.dat" true && fail "flock -n took flock.dat before the dump: the workload holds no lock"
files_dump "$root" "$WORK/img"
flock -n "$D/flock.dat" true || fail "flock.dat is still locked after the dumped tree is gone"
ok "lock released with the dumped tree"

out=$("$MINICR" restore -d "$WORK/img" 2>"$WORK/restore.log") ||
	{ cat "$WORK/restore.log" >&2; fail "minicr restore failed"; }
TREES+=("$root")
if flock -n "$D/flock.dat" true; then
	fail "flock -n took flock.dat after restore: the restored task does not hold it"
fi
ok "flock -n flock.dat fails: the restored task holds the lock"
python3 - "$D/posix.dat" "$root" <<'PY' || fail "POSIX lock not held by the restored task"
import fcntl, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDWR)
q = struct.pack("hhqqi", fcntl.F_WRLCK, 0, 0, 0, 0)
r = fcntl.fcntl(fd, fcntl.F_GETLK, q)
t, w, start, ln, pid = struct.unpack("hhqqi", r)
print(f"    F_GETLK: type {t} start {start} len {ln} pid {pid}")
sys.exit(0 if t == fcntl.F_WRLCK and pid == int(sys.argv[2]) and (start, ln) == (10, 10) else 1)
PY
ok "POSIX lock 10+10 on posix.dat is held by $root"
touch "$D/verify"
wait_for_file "$D/result" 20 || { cat "$D/log" >&2; fail "the restored workload wrote no result"; }
files_result "$D"
wait_gone "$root" 2>/dev/null || { sleep 1; [[ ! -d /proc/$root ]] || fail "workload did not exit"; }
flock -n "$D/flock.dat" true || fail "flock.dat still locked after the restored task exited"
ok "lock released when the restored task exited"
say "PASS"
