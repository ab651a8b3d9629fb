# tests/cr/lib/common.sh: helpers for the C/R scenarios, sourced by
# tests/cr/lib/one.sh before the scenario file. Everything here runs inside
# the scenario's own PID + mount namespace (one.sh sees to that), as root.
#
# Binaries: MINICR, MINICR_DECODE, MINICR_TEST_VICTIM (tests/cr/run sets
# them from MINICR_BUILD_DIR, default build/).
# A scenario's scratch directory is $S (removed at the end); its log is
# stdout/stderr (kept by tests/cr/run when the scenario fails).

# tree_pids, check_untraced, spawn_clean, kill_pids
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/procs.sh"

set -euo pipefail

say() { printf '%s/%s: %s\n' "$SCENARIO" "$FLAVOR" "$*"; }
ok() { say "ok - $*"; }
fail() {
	printf '%s/%s: FAIL: %s\n' "$SCENARIO" "$FLAVOR" "$*" >&2
	exit 1
}

# wait_until SECONDS CMD...: run CMD every 50 ms until it succeeds (0) or
# SECONDS pass (1).
wait_until() {
	local t=$1 i
	shift
	for ((i = 0; i < t * 20; i++)); do
		"$@" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# kill_tree ROOT: SIGKILL every task of the tree.
kill_tree() {
	local -a pids
	mapfile -t pids < <(tree_pids "$1")
	kill_pids "${pids[@]}"
}

# alive PID: the task exists and is not a zombie.
alive() {
	local st
	st=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n "$st" && "$st" != Z && "$st" != X ]]
}

# wait_gone PID...: until none of them is alive (10 s each); names the
# first survivor.
wait_gone() {
	local p
	for p in "$@"; do
		if ! wait_until 10 eval "! alive $p"; then
			echo "task $p is still there: $(tr -d '\0' <"/proc/$p/stat" 2>/dev/null)" >&2
			return 1
		fi
	done
}

# state_of PID: the state letter from /proc/PID/stat (empty if gone)
state_of() { awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null || true; }

# ns_pid PID: the PID the task has in its own (innermost) PID namespace.
ns_pid() { awk '/^NSpid:/ { print $NF }' "/proc/$1/status"; }

# tree_shape ROOT: "NSPID PARENT-NSPID THREADS COMM" per task, sorted: what a
# restore must give back, whatever namespace it lands in (PIDs as the tree
# sees them; the root's parent is "-": it is whoever restored it).
tree_shape() {
	_shape "$1" - | sort -n
}
_shape() {
	local pid=$1 parent=$2 me tid kid
	me=$(ns_pid "$pid" 2>/dev/null) || return 0
	printf '%s %s %s %s\n' "$me" "$parent" "$(ls "/proc/$pid/task" 2>/dev/null | wc -l)" \
		"$(cat "/proc/$pid/comm" 2>/dev/null)"
	for tid in $(ls "/proc/$pid/task" 2>/dev/null); do
		for kid in $(cat "/proc/$pid/task/$tid/children" 2>/dev/null); do
			_shape "$kid" "$me"
		done
	done
}

is_comm() { [[ "$(cat "/proc/$1/comm" 2>/dev/null)" == "$2" ]]; }

# child_of PID: the first child of PID, once it has one (5 s).
kids_of() { cat /proc/"$1"/task/*/children 2>/dev/null; }
has_kids() { [[ -n "$(kids_of "$1")" ]]; }
child_of() {
	local c
	wait_until 5 has_kids "$1" || return 1
	c=$(kids_of "$1")
	echo "${c%% *}"
}

# procs FILE: the PIDs of this namespace (no process of ours in the list:
# a glob and builtins only).
procs() {
	local d
	local -a l=()
	for d in /proc/[0-9]*; do
		l+=("${d#/proc/}")
	done
	printf '%s\n' "${l[@]}" | sort -n >"$1"
}

# workload_result WANT [SECONDS]: ask a self-checking workload to check
# itself (it waits for $S/verify and writes $S/result, one line per check),
# print its answer and compare it with WANT (default wait 10 s).
workload_result() {
	local want=$1
	touch "$S/verify"
	wait_until "${2:-10}" test -e "$S/result" || { echo "no result" >&2; cat "$S/wl.log" >&2; return 1; }
	sed 's/^/    /' "$S/result"
	[[ "$(cat "$S/result")" == "$want" ]] || { diff <(echo "$want") "$S/result" >&2; return 1; }
}

# expect_fail WHAT PATTERN CMD...: CMD exits 1 (not by a signal) with a
# message on stderr matching PATTERN (grep -E); the message is shown.
expect_fail() {
	local what=$1 pat=$2 rc=0
	shift 2
	"$@" >"$S/out" 2>"$S/err" || rc=$?
	sed 's/^/    | /' "$S/err"
	((rc == 1)) || fail "$what: exited $rc, want 1"
	grep -Eq -- "$pat" "$S/err" || fail "$what: the message does not match /$pat/"
}

# expect_killed WHAT STAGE CMD...: CMD (minicr with MINICR_FAULT set) died of
# SIGKILL at fault point STAGE.
expect_killed() {
	local what=$1 stage=$2 rc=0
	shift 2
	"$@" >"$S/out" 2>"$S/err" || rc=$?
	sed 's/^/    | /' "$S/err"
	((rc == 137)) || fail "$what: exited $rc, want 137 (SIGKILL at $stage)"
	grep -q "MINICR_FAULT: killed at $stage" "$S/err" || fail "$what: the fault point $stage was not reached"
}

# json_has FILE STRING: the decoded image FILE mentions STRING
decoded() { "$MINICR_DECODE" decode "$1"; }

# ---- fault and bad-input scenarios ----

# take_pid PID: start `tail` at PID through ns_last_pid (a PID a restore
# needs, taken); sets HOLDER, killed at the end like the workloads.
take_pid() {
	local last
	last=$(cat /proc/sys/kernel/ns_last_pid)
	echo $(($1 - 1)) >/proc/sys/kernel/ns_last_pid
	spawn_clean tail -f /dev/null
	HOLDER=$SPAWN_PID
	STARTED+=("$HOLDER")
	echo $((last + 50)) >/proc/sys/kernel/ns_last_pid
	[[ $HOLDER == "$1" ]] || fail "could not take PID $1 (got $HOLDER)"
	wait_until 5 is_comm "$HOLDER" tail
}

# small_tree: start `bash` with two `sleep 1000` children (3 tasks) as a
# host workload; sets ROOT, DUMP_PID and TREE (the PIDs), once all are up.
small_tree() {
	flavor_spawn bash -c 'sleep 1000 & sleep 1000 & wait'
	STARTED+=("$ROOT")
	wait_until 10 eval '(($(tree_pids "$ROOT" | wc -l) == 3))' || fail "the small tree did not start"
	wait_until 5 eval '[[ "$(tree_pids "$ROOT" | while read -r p; do state_of "$p"; done | sort -u | xargs)" == S ]]' ||
		fail "the small tree does not settle"
	mapfile -t TREE < <(tree_pids "$ROOT")
}

# tree_intact WHAT: every task of the tree recorded in TREE is alive, in the
# state it had (S), untraced, with the shape recorded in $S/intact.
tree_intact() {
	local p
	for p in "${TREE[@]}"; do
		alive "$p" || fail "$1: task $p of the tree is gone"
		[[ "$(state_of "$p")" == S ]] || fail "$1: task $p is in state '$(state_of "$p")', want S"
	done
	check_untraced "$ROOT" || fail "$1: tasks left traced"
	tree_shape "$ROOT" >"$S/shape.now"
	diff -u "$S/intact" "$S/shape.now" >&2 || fail "$1: the tree changed (diff above)"
}

# no_new_tasks WHAT BEFORE-FILE: the processes of this namespace are those
# listed in BEFORE-FILE (after a short settle), none of TREE.
no_new_tasks() {
	local p
	sleep 0.3
	procs "$S/procs.after"
	diff -u "$2" "$S/procs.after" >&2 || fail "$1: processes changed (above)"
	for p in "${TREE[@]}"; do
		alive "$p" && fail "$1: PID $p of the tree exists: $(cat "/proc/$p/comm")"
	done
	return 0
}
