# A task whose cwd is a directory removed (rmdir) after it entered it: the
# restore makes a directory in the old parent under a temporary name, with
# the recorded mode, enters it and removes it, so the cwd is a deleted
# directory again: getcwd() fails with ENOENT, /proc/self/cwd says
# "(deleted)", creating a file in it fails with ENOENT, mode kept. Likewise
# an fd open O_RDONLY|O_DIRECTORY on a removed directory: made again,
# opened and removed, so fstat() shows a directory with no links.
FLAVORS="host pidns migrate"
WL=/usr/bin/python3
PY=$CR_DIR/../workloads/deleted_dirs.py
WORKLOAD=("$WL" "$PY" "$S")

ready() { [[ -e $S/ready ]]; }
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
