# An inotify instance with watches of wd 1 and 3 (wd 2 removed before the
# dump) comes back with the same wds: after the restore a change to each
# watched file reaches the workload (minicr-test-notify inotify) as an
# IN_MODIFY event of the wd it knows that file by.
FLAVORS="host pidns"
WORKLOAD=("$MINICR_BUILD_DIR/tests/workloads/minicr-test-notify" inotify "$S")

ready() { [[ -e $S/ready ]]; }
logged() { [[ $(grep -c -x "$1" "$S/log") -ge $2 ]]; }
no_bad() { ! grep BAD "$S/log" >&2; }
check_before() {
	grep -q -x "wds 1 3" "$S/log" || { cat "$S/log" >&2; return 1; }
	echo x >>"$S/a"
	wait_until 5 logged "wd 1 a" 1 || { cat "$S/log" >&2; return 1; }
}
check_after() {
	echo x >>"$S/c"
	wait_until 5 logged "wd 3 c" 1 || { cat "$S/log" >&2; return 1; }
	echo x >>"$S/a"
	wait_until 5 logged "wd 1 a" 2 || { cat "$S/log" >&2; return 1; }
	echo x >>"$S/b"   # no longer watched: nothing may come of it
	sleep 0.2
	no_bad || return 1
	say "IN_MODIFY of c came as wd 3, of a as wd 1 after the restore"
}
