# A fanotify group with an inode mark (FAN_MODIFY on a file) comes back:
# after the restore a write to the file reaches the workload
# (minicr-test-notify fanotify) as an event whose fd is that file.
FLAVORS="host pidns"
WORKLOAD=("$MINICR_BUILD_DIR/tests/workloads/minicr-test-notify" fanotify "$S")

ready() { [[ -e $S/ready ]]; }
logged() { [[ $(grep -c -x "$1" "$S/log" 2>/dev/null) -ge $2 ]]; }
check_before() {
	echo x >>"$S/f"
	wait_until 5 logged "fan $S/f" 1 || { cat "$S/log" >&2; return 1; }
}
check_after() {
	echo x >>"$S/f"
	wait_until 5 logged "fan $S/f" 2 || { cat "$S/log" >&2; return 1; }
	! grep BAD "$S/log" >&2 || return 1
	say "FAN_MODIFY of $S/f reached the restored watcher"
}
