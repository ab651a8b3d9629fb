# A task whose cwd is a directory removed (rmdir) after it entered it: the
# restore makes a directory in the old parent under a temporary name, with
# the recorded mode, enters it and removes it, so the cwd is a deleted
# directory again: getcwd() fails with ENOENT, /proc/self/cwd says
# "(deleted)", creating a file in it fails with ENOENT, mode kept. Likewise
# an fd open O_RDONLY|O_DIRECTORY on a removed directory: made again,
# opened and removed, so fstat() shows a directory with no links. A cwd
# and an fd on one deleted directory are refused at dump (they would come
# back as two directories), and so are two tasks sharing one deleted cwd.
FLAVORS="host pidns migrate"
WL=/usr/bin/python3
PY=$CR_DIR/../workloads/deleted_dirs.py
WORKLOAD=("$WL" "$PY" "$S")

ready() { [[ -e $S/ready ]]; }
# refused MODE WHAT PATTERN: the workload in MODE is refused at dump with
# PATTERN (SPAWN_PID in it as @PID@), nothing written, and runs on.
refused() {
	local o=$S/${1#--} pat
	mkdir -p "$o"
	SPAWN_OUT=$o.log spawn_clean "$WL" "$PY" "$o" "$1"
	STARTED+=("$SPAWN_PID")
	wait_until 10 test -e "$o/ready" || { echo "the $1 workload did not start" >&2; return 1; }
	pat=${3//@PID@/$SPAWN_PID}
	expect_fail "$2" "$pat" "$MINICR" dump -D "$o/img" "$SPAWN_PID"
	[[ ! -e $o/img/inventory.img ]] || { echo "the refused dump left inventory.img" >&2; return 1; }
	alive "$SPAWN_PID" || { echo "the refused tree is gone" >&2; return 1; }
	kill_tree "$SPAWN_PID"
}
check_before() {
	refused --same "a cwd and an fd on one deleted directory" \
		"task @PID@: fd [0-9]+ \\(.*/both \\(deleted\\)\\): a deleted directory that is also the cwd of task @PID@" &&
	refused --fork "two tasks with one deleted cwd" \
		"tasks @PID@ and [0-9]+ have one deleted directory as their cwd"
}
check_after() {
	local want="getcwd ENOENT
cwd dir True nlink 0 mode 750 owner 1234:2345
link True
create ENOENT
fd dir True nlink 0 mode 710 owner 4321:5432
fd link True
fd create ENOENT"
	workload_result "$want" || return 1
	ls -a "$S" | grep -qE "minicr-ghost-dir|^gone" && { echo "a made-again directory is left" >&2; return 1; }
	say "the restored cwd and fd are deleted directories again"
}
