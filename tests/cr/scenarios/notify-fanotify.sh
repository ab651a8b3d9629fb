# A fanotify group with an inode mark (FAN_MODIFY on a file), a mount mark
# and a filesystem mark (FAN_CLOSE_WRITE, each on a tmpfs of its own)
# comes back: after the restore a write under each reaches the workload
# (minicr-test-notify fanotify) as an event whose fd is that file.
FLAVORS="host pidns"
WORKLOAD=("$MINICR_BUILD_DIR/tests/workloads/minicr-test-notify" fanotify "$S")

# The run's own mount namespace (tests/cr/lib/one.sh) drops them.
flavor_setup_hook() {
	mkdir -p "$S/mnt" "$S/fs" &&
		mount -t tmpfs -o size=1m notify-mnt "$S/mnt" &&
		mount -t tmpfs -o size=1m notify-fs "$S/fs"
}
ready() { [[ -e $S/ready ]]; }
logged() { [[ $(grep -c -x "$1" "$S/log" 2>/dev/null) -ge $2 ]]; }
# Written from the workload's mount namespace (pidns: a copy of ours, and
# after the restore one of minicr's): a mount mark sees only its mount.
wrote() {
	nsenter -t "$ROOT" -m sh -c 'echo x >>"$1"' sh "$1" || return 1
	wait_until 5 logged "fan $1" "$2" || { cat "$S/log" >&2; return 1; }
}
check_before() {
	wrote "$S/f" 1 && wrote "$S/mnt/x" 1 && wrote "$S/fs/y" 1
}
check_after() {
	wrote "$S/f" 2 && wrote "$S/mnt/x" 2 && wrote "$S/fs/y" 2 || return 1
	! grep BAD "$S/log" >&2 || return 1
	say "inode, mount and filesystem marks reached the restored watcher"
}
