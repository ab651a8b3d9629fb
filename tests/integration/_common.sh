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

# SIGKILL the tree rooted at $1 (a tree this test started) and reap the root.
kill_tree() {
	local root=$1 p
	local -a pids
	mapfile -t pids < <(tree_pids "$root")
	for p in "${pids[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
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
# Restore tests (tests/integration/restore-*.sh). The self-verifying workload
# is tests/workloads/victim.c (see its header for the protocol: DIR/ready,
# DIR/verify, DIR/result.PID).
: "${MINICR_TEST_VICTIM:=$MINICR_BUILD_DIR/tests/workloads/minicr-test-victim}"
export MINICR_TEST_VICTIM

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

# CLOCK_MONOTONIC in seconds (the clock the victim uses).
mono_now() { "$MINICR_TEST_VICTIM" --now; }

# now_s: wall clock with nanoseconds, for durations.
now_s() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.3f", b - a }'; }

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

# kill_pids PID...: SIGKILL each (those already gone are skipped).
kill_pids() {
	local p
	for p in "$@"; do
		kill -KILL "$p" 2>/dev/null || true
	done
}

# victim_start SCENARIO: start minicr-test-victim in a fresh directory
# VDIR under WORK and wait for DIR/ready. Sets VICTIM_PID, VDIR and
# VICTIM_LIVE (the live tasks' PIDs from the ready file).
VICTIM_NR=0
VICTIM_PID=
VDIR=
VICTIM_LIVE=()
victim_start() {
	[[ -x "$MINICR_TEST_VICTIM" ]] || fail "missing binary $MINICR_TEST_VICTIM (build first)"
	VICTIM_NR=$((VICTIM_NR + 1))
	VDIR=$WORK/victim$VICTIM_NR
	mkdir -p "$VDIR"
	SPAWN_OUT=$VDIR/log spawn_clean env MINICR_VICTIM_ENV="hello world=1" \
		"$MINICR_TEST_VICTIM" --scenario "$1" --dir "$VDIR"
	VICTIM_PID=$SPAWN_PID
	disown "$VICTIM_PID"   # no job report when the dump kills it; PID 1 (us) reaps it
	TREES+=("$VICTIM_PID")
	wait_for_file "$VDIR/ready" 40 || { cat "$VDIR/log" >&2; fail "victim $1 did not get ready"; }
	mapfile -t VICTIM_LIVE < <(awk '{ print $1 }' "$VDIR/ready")
	[[ " ${VICTIM_LIVE[*]} " == *" $VICTIM_PID "* ]] ||
		fail "victim $1: ready file does not list the root $VICTIM_PID"
}

# victim_verify GEN T_RESTORE [T_RESTORED]: ask every live task of the
# victim in VDIR to check itself (the times: mono_now before and after
# minicr restore); wait (20 s) for all results, print them; returns 1 if one
# is missing or says FAIL.
victim_verify() {
	local p i bad=0
	rm -f "$VDIR"/result.*
	echo "$1 $2 ${3:-$2}" >"$VDIR/.verify.tmp"
	mv "$VDIR/.verify.tmp" "$VDIR/verify"
	for p in "${VICTIM_LIVE[@]}"; do
		for ((i = 0; i < 400; i++)); do
			[[ -e "$VDIR/result.$p" ]] && break
			sleep 0.05
		done
		if [[ ! -e "$VDIR/result.$p" ]]; then
			echo "task $p wrote no result (state: $(awk '{ sub(/.*\) /, ""); print $1 }' /proc/$p/stat 2>/dev/null || echo gone))" >&2
			bad=1
			continue
		fi
		grep -q '^OK ' "$VDIR/result.$p" || bad=1
	done
	# every result if few tasks or a failure, else a count
	if ((bad || ${#VICTIM_LIVE[@]} <= 12)); then
		cat "$VDIR"/result.* 2>/dev/null | sed 's/^/    /'
	else
		echo "    ${#VICTIM_LIVE[@]} tasks: $(cat "$VDIR"/result.* | grep -c '^OK ') OK"
	fi
	rm -f "$VDIR/verify"
	return $bad
}

# victim_restore_test SCENARIO: for each PID method, start the victim,
# snapshot it, dump it (the tree is killed), then twice from the same
# images: restore -d, check the tree equals the snapshot, nothing traced,
# every task verifies itself, kill the restored tree by its PIDs.
victim_restore_test() {
	local sc=$1 method round img root out t0 t1 tr snap after
	local -a pids
	for method in clone3 ns_last_pid; do
		victim_start "$sc"
		root=$VICTIM_PID
		snap=$WORK/$sc-$method.before
		fast_snapshot "$root" >"$snap"
		mapfile -t pids < <(awk 'NR > 1 { print $1 }' "$snap")
		say "$sc: tree before the dump (${#pids[@]} tasks):"
		cat "$snap"
		img=$WORK/img-$sc-$method
		t0=$(now_s)
		"$MINICR" dump -D "$img" "$root" >"$WORK/dump.log" 2>&1 ||
			{ cat "$WORK/dump.log" >&2; cat "$VDIR/log" >&2; fail "$sc: minicr dump $root failed"; }
		say "$sc: dump took $(elapsed "$t0") s"
		wait_gone "${pids[@]}" || fail "$sc: the dumped tree is not gone"
		for round in 1 2; do
			t0=$(mono_now)
			tr=$(now_s)
			out=$("$MINICR" restore -d --pid-method="$method" "$img" 2>"$WORK/restore.err") ||
				{ cat "$WORK/restore.err" >&2; cat "$VDIR/log" >&2; fail "$sc $method restore $round: minicr restore exited non-zero"; }
			out=$(elapsed "$tr")
			t1=$(mono_now)
			[[ -d /proc/$root ]] || fail "$sc $method restore $round: root $root is not there"
			after=$WORK/$sc-$method.after$round
			fast_snapshot "$root" >"$after"
			# rows compared sorted by PID: the order of a parent's
			# children list (in which order they became its children)
			# is not restored, and need not be
			{ head -n1 "$snap"; tail -n +2 "$snap" | sort -n; } >"$snap.sorted"
			{ head -n1 "$after"; tail -n +2 "$after" | sort -n; } >"$after.sorted"
			compare_show "$snap.sorted" "$after.sorted" ||
				{ ps -e -o pid,ppid,pgid,sid,stat,wchan:20,comm >&2; fail "$sc $method restore $round: restored tree differs from the one dumped (diff above)"; }
			check_untraced "$root" || fail "$sc $method restore $round: tasks left traced"
			victim_verify "$round" "$t0" "$t1" ||
				{ cat "$VDIR/log" >&2; fail "$sc $method restore $round: verification failed (above)"; }
			ok "$sc, --pid-method=$method, restore $round ($out s): same tree, ${#VICTIM_LIVE[@]} live tasks verified"
			kill_pids "${pids[@]}"
			wait_gone "${pids[@]}" || fail "$sc $method restore $round: restored tree not gone after SIGKILL"
		done
	done
}

# fast_snapshot ROOT: what `snapshot ROOT` prints (the same format, the same
# retry while a task is caught running), in one python process instead of a
# few processes per task: the restore tests snapshot trees of 40 tasks
# several times, which costs tens of seconds in bash on a loaded machine.
fast_snapshot() {
	python3 - "$1" <<'PY'
import os, sys, time

def state(s):
    return {"R": "R", "S": "S", "D": "S", "I": "S", "T": "T", "Z": "Z", "X": "Z"}.get(s, "?" + s)

def task(pid, depth, out):
    try:
        s = open("/proc/%d/stat" % pid).read()
        tids = sorted(int(t) for t in os.listdir("/proc/%d/task" % pid))
    except OSError:
        return
    comm = s[s.index("(") + 1:s.rindex(")")]
    f = s[s.rindex(")") + 2:].split()
    out.append("%7d %7d %7d %7d %-5s %7u  %s%s" % (pid, int(f[1]), int(f[2]), int(f[3]),
               state(f[0]), len(tids), " " * (2 * depth), comm))
    for tid in tids:
        try:
            kids = open("/proc/%d/task/%d/children" % (pid, tid)).read().split()
        except OSError:
            continue
        for k in kids:
            task(int(k), depth + 1, out)

root = int(sys.argv[1])
for i in range(100):
    rows = []
    task(root, 0, rows)
    if not any(r.split()[4] == "R" for r in rows):
        break
    time.sleep(0.05)
print("%7s %7s %7s %7s %-5s %7s  %s" % ("PID", "PPID", "PGID", "SID", "STATE", "THREADS", "COMMAND"))
for r in rows:
    print(r)
PY
}
