#!/usr/bin/env bash
# What the files code cannot restore faithfully makes the dump fail before
# any image is written, with a message naming the tasks/fd, and the tree
# keeps running: two siblings sharing one fd table that is not their
# parent's (clone(CLONE_FILES | CLONE_PARENT); a table shared with the
# parent is restored, files-fdtable.sh), a POSIX lock a child took on the
# fd table it shares with its parent, and a file lease being broken
# (tests/workloads/files_work.c, modes clonefiles-sibling, fdtable-lock
# and lease); a FIFO unlinked while open (restore reopens a FIFO by its
# path).
source "$(dirname "$0")/_common.sh"
source "$(dirname "$0")/_files.sh"
enter_pidns "$@"
setup_work

refused() {   # MODE PATTERN
	local d=$WORK/$1 img=$WORK/img-$1
	files_start "$1" "$d"
	if "$MINICR" dump -D "$img" "$FILES_PID" >"$WORK/$1.log" 2>&1; then
		fail "$1: dump succeeded"
	fi
	grep -q -- "$2" "$WORK/$1.log" || { cat "$WORK/$1.log" >&2; fail "$1: no message matching '$2'"; }
	[[ -d /proc/$FILES_PID ]] && [[ "$(awk '{ print $3 }' /proc/$FILES_PID/stat)" != [TtZ] ]] ||
		fail "$1: the tree is not running after the refused dump"
	[[ ! -e "$img/inventory.img" && -z "$(ls "$img" 2>/dev/null)" ]] ||
		fail "$1: the refused dump left images: $(ls "$img")"
	ok "$1 refused: $(grep -m1 -- "$2" "$WORK/$1.log")"
}
refused clonefiles-sibling "share one fd table .* but not along parent-child links"
refused fdtable-lock "holds a POSIX lock (pid [0-9]*) on the fd table it shares"
refused lease "holds a lease in state BREAKING"

mkfifo "$WORK/fifo"
files_spawn bash -c 'exec 5<>"$1" && rm "$1" && exec sleep 1000' fifo "$WORK/fifo"
for ((i = 0; i < 100; i++)); do
	[[ "$(readlink "/proc/$FILES_PID/fd/5" 2>/dev/null)" == *"(deleted)" && "$(cat "/proc/$FILES_PID/comm")" == sleep ]] && break
	sleep 0.05
done
if "$MINICR" dump -D "$WORK/img-fifo" "$FILES_PID" >"$WORK/fifo.log" 2>&1; then
	fail "unlinked FIFO: dump succeeded"
fi
grep -q "fd 5 (.*fifo (deleted)): the FIFO was unlinked" "$WORK/fifo.log" ||
	{ cat "$WORK/fifo.log" >&2; fail "unlinked FIFO: no message naming fd 5"; }
[[ -d /proc/$FILES_PID && -z "$(ls "$WORK/img-fifo" 2>/dev/null)" ]] ||
	fail "unlinked FIFO: the tree is gone or images were left"
ok "unlinked FIFO refused: $(grep -m1 "fd 5" "$WORK/fifo.log")"
say "PASS"
