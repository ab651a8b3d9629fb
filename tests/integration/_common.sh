# Sourced by every tests/integration/*.sh (files starting with '_' are not
# tests; tools/run-tests skips them).
#
# A test calls enter_pidns "$@" first: the script re-executes itself as PID 1
# of a new PID and mount namespace (unshare --fork --pid --mount-proc) under
# timeout(1). PIDs are fresh, /proc shows only the namespace, mounts are
# private, and whatever is left when the script ends (a frozen, stopped or
# traced task included) is killed with the namespace. The EXIT trap also
# kills the trees the test started, by PID, and removes the work directory.
#
# Binaries come from the environment (tools/run-tests sets them) or default
# to the plain build in build/:
#   MINICR, MINICR_DECODE, MINICR_TEST_TREE
# TEST_TIMEOUT bounds the whole script (seconds, default 120).

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${MINICR_BUILD_DIR:=$ROOT/build}"
: "${MINICR:=$MINICR_BUILD_DIR/src/minicr}"
: "${MINICR_DECODE:=$MINICR_BUILD_DIR/tools/minicr-decode}"
: "${MINICR_TEST_TREE:=$MINICR_BUILD_DIR/tests/workloads/minicr-test-tree}"
: "${TEST_TIMEOUT:=120}"
export MINICR MINICR_DECODE MINICR_TEST_TREE

TEST_NAME=$(basename "$0" .sh)
# tree_pids, check_untraced, spawn_clean, kill_pids
source "$ROOT/tests/lib/procs.sh"

say() { printf '%s: %s\n' "$TEST_NAME" "$*"; }
ok() { say "ok - $*"; }
fail() {
	printf '%s: FAIL: %s\n' "$TEST_NAME" "$*" >&2
	exit 1
}

# Re-run the calling script in its own PID + mount namespace, bounded by
# TEST_TIMEOUT. --kill-child: if unshare dies (timeout kills it), the
# namespace's PID 1 gets SIGKILL and every task in the namespace with it.
enter_pidns() {
	if [[ "${MINICR_TEST_IN_NS:-}" == "$TEST_NAME" && $$ -eq 1 ]]; then
		return 0
	fi
	[[ $EUID -eq 0 ]] || fail "must run as root (ptrace, namespaces, mounts)"
	local b
	for b in "$MINICR" "$MINICR_DECODE" "$MINICR_TEST_TREE"; do
		[[ -x "$b" ]] || fail "missing binary $b (build first, or set MINICR* variables)"
	done
	export MINICR_TEST_IN_NS=$TEST_NAME
	exec timeout -k 10 "$TEST_TIMEOUT" \
		unshare --fork --pid --mount-proc --kill-child=SIGKILL \
		bash "$0" "$@"
}

WORK=
TREES=()        # roots of the trees this test started

cleanup() {
	local rc=$? r m
	trap - EXIT
	for r in "${TREES[@]}"; do
		kill_tree "$r"
	done
	if [[ -n "$WORK" && -d "$WORK" ]]; then
		# Unmount what the test mounted under WORK (deepest first).
		while read -r m; do
			umount -l "$m" 2>/dev/null || true
		done < <(awk -v w="$WORK" 'index($2, w) == 1 { print $2 }' /proc/self/mounts | sort -r)
		rm -rf "$WORK"
	fi
	exit "$rc"
}

# Create the work directory and install the cleanup trap.
setup_work() {
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/minicr-$TEST_NAME.XXXXXX")
	trap cleanup EXIT
	trap 'exit 143' TERM INT
}

# SIGKILL the tree rooted at $1 (a tree this test started) and reap the root.
kill_tree() {
	local root=$1
	local -a pids
	mapfile -t pids < <(tree_pids "$root")
	kill_pids "${pids[@]}"
	wait "$root" 2>/dev/null || true
}

# start_tree [ARGS...]: start minicr-test-tree in the background, wait until
# it is complete; sets TREE_PID (and adds it to TREES).
TREE_NR=0
TREE_PID=
start_tree() {
	TREE_NR=$((TREE_NR + 1))
	local ready="$WORK/tree$TREE_NR.ready" out="$WORK/tree$TREE_NR.out"
	"$MINICR_TEST_TREE" --ready "$ready" "$@" >"$out" 2>&1 </dev/null &
	TREE_PID=$!
	TREES+=("$TREE_PID")
	wait_for_file "$ready" 30 || { cat "$out" >&2; fail "minicr-test-tree $* did not get ready"; }
	[[ "$(cat "$ready")" == "$TREE_PID" ]] ||
		fail "ready file says root $(cat "$ready"), we started $TREE_PID"
}

# wait_for_file FILE SECONDS
wait_for_file() {
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		[[ -e "$1" ]] && return 0
		sleep 0.05
	done
	return 1
}

# State letter as minicr-decode show prints it: R S T Z; D and I are asleep.
map_state() {
	case "$1" in
	R) echo R ;;
	S | D | I) echo S ;;
	T) echo T ;;
	Z | X) echo Z ;;
	*) echo "?$1" ;;        # 't' (traced) and anything else: never expected
	esac
}

show_header() {
	printf '%7s %7s %7s %7s %-5s %7s  %s\n' PID PPID PGID SID STATE THREADS COMMAND
}

_snap_task() {
	local pid=$1 depth=$2 s comm rest nthreads tid kid
	s=$(cat "/proc/$pid/stat" 2>/dev/null) || return 0
	comm=${s#*\(}
	comm=${comm%)*}
	rest=${s##*) }
	local -a f
	read -r -a f <<<"$rest"
	nthreads=$(ls "/proc/$pid/task" 2>/dev/null | wc -l)
	# f[0..3] = state ppid pgrp session (fields 3..6 of stat)
	printf '%7d %7d %7d %7d %-5s %7u  %*s%s\n' "$pid" "${f[1]}" "${f[2]}" "${f[3]}" \
		"$(map_state "${f[0]}")" "$nthreads" $((2 * depth)) '' "$comm"
	for tid in $(ls "/proc/$pid/task" 2>/dev/null | sort -n); do
		for kid in $(cat "/proc/$pid/task/$tid/children" 2>/dev/null); do
			_snap_task "$kid" $((depth + 1))
		done
	done
}

# snapshot ROOT: the tree from /proc in the format of `minicr-decode show`.
# Retried (bounded) until no task is caught running on a CPU, since the
# dump records the state a task is frozen in, and a sleeping task can be
# briefly R (e.g. while its parent is being set up).
snapshot() {
	local out i
	for ((i = 0; i < 100; i++)); do
		out=$({ show_header; _snap_task "$1" 0; })
		if ! awk 'NR > 1 && $5 == "R" { found = 1 } END { exit !found }' <<<"$out"; then
			break
		fi
		sleep 0.05
	done
	printf '%s\n' "$out"
}

# compare_show EXPECTED ACTUAL: header compared word by word, rows exactly.
compare_show() {
	local exp=$1 act=$2
	[[ "$(head -n1 "$exp" | xargs)" == "$(head -n1 "$act" | xargs)" ]] || {
		diff -u <(head -n1 "$exp") <(head -n1 "$act") >&2 || true
		return 1
	}
	diff -u <(tail -n +2 "$exp") <(tail -n +2 "$act") >&2
}

# Threads of every task: "PID: TID TID ..." per line.
thread_lists() {
	local pid
	for pid in $(tree_pids "$1"); do
		echo "$pid: $(ls "/proc/$pid/task" 2>/dev/null | sort -n | xargs)"
	done
}

# PID of the task with comm $2 in the snapshot file $1.
pid_of_comm() {
	awk -v c="$2" 'NR > 1 && $NF == c { print $1; exit }' "$1"
}

# json_get FILE KEY: the value of KEY in the JSON document FILE (searched
# recursively, first match), as compact JSON (strings unquoted); empty if
# absent.
json_get() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
def find(o, k):
    if isinstance(o, dict):
        if k in o:
            return o[k]
        vals = o.values()
    elif isinstance(o, list):
        vals = o
    else:
        return None
    for v in vals:
        r = find(v, k)
        if r is not None:
            return r
    return None
v = find(json.load(open(sys.argv[1])), sys.argv[2])
if v is None:
    sys.exit(0)
print(v if isinstance(v, str) else json.dumps(v))
EOF
}

# ---------------------------------------------------------------------------
# Helpers of the files, sockets and terminal tests.

# wait_gone PID...: wait (bounded, 10 s each) until no /proc entry is left
# for any of them (killed and reaped); returns 1 naming the first survivor.
wait_gone() {
	local p i
	for p in "$@"; do
		for ((i = 0; i < 200; i++)); do
			[[ -d /proc/$p ]] || break
			sleep 0.05
		done
		if [[ -d /proc/$p ]]; then
			echo "task $p is still there: $(tr -d '\0' </proc/$p/stat 2>/dev/null)" >&2
			return 1
		fi
	done
}


