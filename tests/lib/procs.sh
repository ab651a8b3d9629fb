# tests/lib/procs.sh: process helpers shared by tests/integration/_common.sh
# and tests/cr/lib/common.sh (sourced by both). Only PIDs a test started
# are ever passed to them.

# All PIDs of the tree rooted at $1, parents first (depth-first, children in
# the order /proc/PID/task/TID/children lists them, threads in TID order).
tree_pids() {
	local pid=$1 tid kid
	[[ -d /proc/$pid ]] || return 0
	echo "$pid"
	for tid in $(ls "/proc/$pid/task" 2>/dev/null | sort -n); do
		for kid in $(cat "/proc/$pid/task/$tid/children" 2>/dev/null); do
			tree_pids "$kid"
		done
	done
}

# Every thread of every task of the tree: not traced and not in a ptrace
# stop. Prints offenders and returns 1 if any.
check_untraced() {
	local root=$1 pid tid bad=0 tracer state
	for pid in $(tree_pids "$root"); do
		for tid in $(ls "/proc/$pid/task" 2>/dev/null); do
			tracer=$(awk '/^TracerPid:/ { print $2 }' "/proc/$pid/task/$tid/status" 2>/dev/null) || continue
			state=$(awk '/^State:/ { print $2 }' "/proc/$pid/task/$tid/status" 2>/dev/null) || continue
			if [[ -n "$tracer" && "$tracer" != 0 ]]; then
				echo "task $pid thread $tid is traced by $tracer" >&2
				bad=1
			fi
			if [[ "$state" == t ]]; then
				echo "task $pid thread $tid is in a ptrace stop" >&2
				bad=1
			fi
		done
	done
	return $bad
}

# spawn_clean CMD...: start CMD in the background with every descriptor
# above 2 closed (the harness may leak some, and minicr dumps only regular
# files), stdin on /dev/null, stdout and stderr appended to $SPAWN_OUT
# (default /dev/null). Sets SPAWN_PID.
SPAWN_PID=
spawn_clean() {
	local out=${SPAWN_OUT:-/dev/null}
	(
		for f in /proc/$BASHPID/fd/*; do
			f=${f##*/}
			if ((f > 2)); then eval "exec $f>&-"; fi
		done
		exec "$@" </dev/null >>"$out" 2>&1
	) &
	SPAWN_PID=$!
}

# kill_pids PID...: SIGKILL each (those already gone are skipped).
kill_pids() {
	local p
	for p in "$@"; do
		kill -KILL "$p" 2>/dev/null || true
	done
}
