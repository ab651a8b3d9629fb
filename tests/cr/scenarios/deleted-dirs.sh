# A task whose cwd is a directory removed (rmdir) after it entered it: the
# restore makes a directory in the old parent under a temporary name, with
# the recorded mode, enters it and removes it, so the cwd is a deleted
# directory again: getcwd() fails with ENOENT, /proc/self/cwd says
# "(deleted)", creating a file in it fails with ENOENT, mode kept. Likewise
# an fd open O_RDONLY|O_DIRECTORY on a removed directory: made again,
# opened and removed, so fstat() shows a directory with no links. A cwd
# and an fd on one deleted directory are refused at dump (they would come
# back as two directories).
FLAVORS="host pidns migrate"
WL=/usr/bin/python3
PY=$CR_DIR/../workloads/deleted_dirs.py
WORKLOAD=("$WL" "$PY" "$S")

ready() { [[ -e $S/ready ]]; }
check_before() {
	local o=$S/same
	mkdir -p "$o"
	SPAWN_OUT=$S/same.log spawn_clean "$WL" "$PY" "$o" --same
	STARTED+=("$SPAWN_PID")
	wait_until 10 test -e "$o/ready" || { echo "the --same workload did not start" >&2; return 1; }
	expect_fail "a cwd and an fd on one deleted directory" \
		"task $SPAWN_PID: fd [0-9]+ \\(.*/both \\(deleted\\)\\): a deleted directory that is also the cwd of task $SPAWN_PID" \
		"$MINICR" dump -D "$S/img-same" "$SPAWN_PID"
	[[ ! -e $S/img-same/inventory.img ]] || { echo "the refused dump left inventory.img" >&2; return 1; }
	alive "$SPAWN_PID" || { echo "the refused tree is gone" >&2; return 1; }
	kill_tree "$SPAWN_PID"
}
check_after() {
	local want="getcwd ENOENT
cwd dir True nlink 0 mode 750
link True
create ENOENT
fd dir True nlink 0 mode 710
fd link True
fd create ENOENT"
	touch "$S/verify"
	wait_until 10 test -e "$S/result" || { echo "no result" >&2; cat "$S/wl.log" >&2; return 1; }
	sed 's/^/    /' "$S/result"
	[[ "$(cat "$S/result")" == "$want" ]] || { diff <(echo "$want") "$S/result" >&2; return 1; }
	ls -a "$S" | grep -qE "minicr-ghost-dir|^gone" && { echo "a made-again directory is left" >&2; return 1; }
	say "the restored cwd and fd are deleted directories again"
}
