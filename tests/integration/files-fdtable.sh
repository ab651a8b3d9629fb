#!/usr/bin/env bash
# An fd table shared between a parent and the child it made with
# clone(CLONE_FILES) stays shared across dump and restore: the child's core
# records it, and after restore the fd the child opens is open in the
# parent and the fd the parent closes is closed in the child
# (tests/workloads/files_work.c, mode fdtable).
source "$(dirname "$0")/_common.sh"
source "$(dirname "$0")/_files.sh"
enter_pidns "$@"
setup_work

D=$WORK/fdtable
files_start fdtable "$D"
root=$FILES_PID
kid=$(cat /proc/$root/task/$root/children)
[[ "$kid" =~ ^[0-9]+\ ?$ ]] || fail "expected one child of $root, got '$kid'"
kid=${kid% }
files_dump "$root" "$WORK/img"

shared() {   # PID: the core's fdtable_shared_with_parent
	"$MINICR_DECODE" decode "$WORK/img/core-$1.img" | python3 -c '
import json, sys
d = json.load(sys.stdin)
e = d["entries"][0] if "entries" in d else d
print(str(e.get("fdtable_shared_with_parent", False)).lower())'
}
[[ "$(shared "$kid")" == true ]] || fail "core-$kid.img does not record the shared fd table"
[[ "$(shared "$root")" == false ]] || fail "core-$root.img records a shared fd table"
ok "core-$kid.img records the fd table shared with its parent $root"

for method in clone3 ns_last_pid; do
	rm -f "$D/result" "$D/verify" "$D/child.dat"
	for ((i = 0; i < 100; i++)); do
		[[ -d /proc/$root || -d /proc/$kid ]] || break
		sleep 0.05
	done
	[[ -d /proc/$root || -d /proc/$kid ]] && fail "the tree restored before is still there"
	rc=0
	timeout 60 "$MINICR" restore -d --pid-method=$method "$WORK/img" >"$WORK/restore.log" 2>&1 ||
		rc=$?
	((rc == 0)) || { cat "$WORK/restore.log" "$D/log" >&2; fail "$method: minicr restore exited $rc"; }
	kcmp_same=$(python3 - "$root" "$kid" <<'PY'
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
# SYS_kcmp 312 (x86_64), KCMP_FILES 2
print(libc.syscall(312, int(sys.argv[1]), int(sys.argv[2]), 2, 0, 0))
PY
)
	[[ "$kcmp_same" == 0 ]] ||
		fail "$method: restored $root and $kid do not share one fd table (kcmp $kcmp_same)"
	ok "$method: restored $root and $kid share one fd table (kcmp KCMP_FILES)"
	touch "$D/verify"
	wait_for_file "$D/result" 30 || { cat "$D/log" >&2; fail "$method: no result from the restored tree"; }
	files_result "$D"
done
say "PASS"
