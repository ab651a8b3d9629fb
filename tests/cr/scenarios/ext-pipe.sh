# External pipe ends restored without --inherit-fd (src/files_pipe.c): a
# launcher (python, outside the dumped tree, on the same host) starts
# minicr-test-extpipe with fd 5 the write end of a pipe and fd 6 the read
# end of another, "queued\n" waiting in it, and keeps both other ends. The
# workload and its child share both fds and never use them before the
# restore. The dump must say each is external and that restore will give a
# pipe whose other end is closed; a plain restore must succeed with
# exactly one warning per task and fd naming the --inherit-fd that would
# connect it; the restored fds are new pipes (other inodes), and on DIR/go
# the workload checks them: a write to fd 5 fails with EPIPE (it ignores
# SIGPIPE; a task that does not dies of it, as it would have once the
# outside reader was gone), fd 6 reads "queued\n" then EOF, O_NONBLOCK and
# the 128 KiB capacity kept, both shared with the child (kcmp). Then the
# images are restored again with fd 6's pipe handed in (scenario_inherit).
FLAVORS="host pidns migrate"

WL=$MINICR_BUILD_DIR/tests/workloads/minicr-test-extpipe
# launcher CMD...: the two pipes, CMD with fds 5 and 6, the other ends kept
# until CMD is gone.
LAUNCHER='
import fcntl, os, sys
def high(fd):
    h = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 20)
    os.close(fd)
    return h
r1, w1 = map(high, os.pipe())
r2, w2 = map(high, os.pipe())
os.write(w2, b"queued\n")
pid = os.fork()
if pid == 0:
    os.dup2(w1, 5)
    os.dup2(r2, 6)
    os.execvp(sys.argv[1], sys.argv[1:])
os.close(w1)
os.close(r2)
os.waitpid(pid, 0)
'

scenario_main() {
	local d=$S/wl top n key f p
	local -a before
	keys=()   # the fds' pipes at dump, for scenario_inherit too
	mkdir -p "$d"
	case $FLAVOR in
	host) SPAWN_OUT=$S/wl.log spawn_clean python3 -c "$LAUNCHER" "$WL" "$d" ;;
	pidns) SPAWN_OUT=$S/wl.log spawn_clean python3 -c "$LAUNCHER" \
		unshare --pid --fork --mount-proc -- "$WL" "$d" ;;
	migrate) SPAWN_OUT=$S/wl.log spawn_clean nsenter -t "$HOST_A" -p -m -n -u -- \
		setsid python3 -c "$LAUNCHER" "$WL" "$d" ;;
	esac
	top=$SPAWN_PID
	STARTED+=("$top")
	wait_until 20 test -e "$d/ready" || { cat "$S/wl.log" >&2; fail "the workload did not get ready"; }
	# The workload's root: the task of that name whose parent is not.
	ROOT=
	for p in $(tree_pids "$top"); do
		if is_comm "$p" minicr-test-ext && ! is_comm "$(awk '/^PPid:/ { print $2 }' "/proc/$p/status")" minicr-test-ext; then
			ROOT=$p
			break
		fi
	done
	[[ -n "$ROOT" ]] || fail "no workload under the launcher $top"
	DUMP_PID=$ROOT
	[[ $FLAVOR == migrate ]] && DUMP_PID=$(ns_pid "$ROOT")
	STARTED+=("$ROOT")
	wait_until 5 eval '(($(tree_pids "$ROOT" | wc -l) == 2))' || fail "the workload's child did not start"
	for f in 5 6; do
		keys[f]=$(readlink "/proc/$ROOT/fd/$f")
		[[ "${keys[f]}" == pipe:* ]] || fail "fd $f of the workload is ${keys[f]}, not a pipe"
	done
	say "workload $ROOT (dump PID $DUMP_PID): fd 5 ${keys[5]}, fd 6 ${keys[6]}, other ends in launcher $top"
	SHAPE_BEFORE=$S/shape.before
	tree_shape "$ROOT" >"$SHAPE_BEFORE"
	mapfile -t before < <(tree_pids "$ROOT")

	cr_dump
	wait_gone "${before[@]}" || fail "the dumped tree is still there"
	n=$(grep -cF "is external: its other end is held by task" "$S/dump.log" || true)
	for f in 5 6; do
		key=${keys[f]}
		grep -F "($key) is external" "$S/dump.log" | grep -qF "restore gives it a new pipe whose other end is closed, unless given --inherit-fd fd[N]:$key" ||
			{ cat "$S/dump.log" >&2; fail "the dump does not say that fd $f ($key) gets a pipe whose other end is closed"; }
	done
	((n == 2)) || { cat "$S/dump.log" >&2; fail "$n external warnings at dump, want 2 (one per open file description)"; }
	ok "dump: $(grep -F "fd 5 (${keys[5]})" "$S/dump.log" | head -1)"

	move_images
	cr_restore
	n=$(grep -c "was external: it gets a new pipe whose other end is closed" "$S/restore.log" || true)
	((n == 4)) || { cat "$S/restore.log" >&2; fail "$n warnings at restore, want one per task and fd (4)"; }
	for p in $(tree_pids "$ROOT"); do
		for f in 5 6; do
			n=$(grep -E "task ($p|$(ns_pid "$p"))( \([0-9]+ at dump\))?: fd $f " "$S/restore.log" |
				grep -F "(${keys[f]}) was external" |
				grep -cF -- "--inherit-fd fd[N]:${keys[f]} would connect" || true)
			((n == 1)) || { cat "$S/restore.log" >&2; fail "$n restore warnings for task $p fd $f, want 1"; }
			key=$(readlink "/proc/$p/fd/$f")
			[[ "$key" == pipe:* && "$key" != "${keys[f]}" ]] ||
				fail "task $p: fd $f is $key after the restore, want a new pipe (was ${keys[f]})"
		done
	done
	ok "restore: $(grep -m1 -F "fd 5 (" "$S/restore.log")"
	check_untraced "$ROOT" || fail "the restored tree is traced"
	tree_shape "$ROOT" >"$S/shape.after"
	diff -u "$SHAPE_BEFORE" "$S/shape.after" >&2 || fail "the restored tree differs (diff above)"

	touch "$d/go"
	wait_until 10 test -e "$d/result" || { cat "$S/wl.log" >&2; fail "the restored workload did not check its fds"; }
	sed 's/^/    /' "$d/result"
	grep -q '^OK ' "$d/result" || fail "the workload says: $(cat "$d/result")"
	ok "the restored workload got new pipes whose other ends are closed"
	scenario_inherit
}

# Again from the same images, fd 6's pipe handed in with --inherit-fd: it
# gets the caller's file as it is (here /dev/null), with a warning that the
# bytes queued at dump are not put into it; fd 5 still gets a new pipe.
# Not in migrate: host B's PID 1 (sleep) does not reap the killed tree,
# whose zombies keep its PIDs.
scenario_inherit() {
	local -a before
	[[ $FLAVOR != migrate ]] || return 0
	mapfile -t before < <(tree_pids "$ROOT")
	kill_tree "$ROOT"
	wait_gone "${before[@]}" || fail "the restored tree is not gone after SIGKILL"
	rm -f "$S/wl/go" "$S/wl/result"
	exec 7</dev/null
	cr_restore --inherit-fd "fd[7]:${keys[6]}"
	exec 7<&-
	grep -qF "(${keys[6]}): the 7 bytes queued in it at dump are not put into fd 7 handed in with --inherit-fd" "$S/restore.log" ||
		{ cat "$S/restore.log" >&2; fail "no warning that the queued bytes are not put into the inherited fd"; }
	(($(grep -c "was external: it gets a new pipe" "$S/restore.log") == 2)) ||
		{ cat "$S/restore.log" >&2; fail "want warnings for fd 5 of both tasks only"; }
	[[ "$(readlink "/proc/$ROOT/fd/6")" == /dev/null && "$(readlink "/proc/$ROOT/fd/5")" == pipe:* ]] ||
		fail "with --inherit-fd: fd 6 is $(readlink "/proc/$ROOT/fd/6"), fd 5 $(readlink "/proc/$ROOT/fd/5")"
	ok "--inherit-fd for fd 6: $(grep -m1 -F "bytes queued" "$S/restore.log")"
}
