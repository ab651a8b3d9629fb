# Scheduling and other per-task attributes (minicr-test-attrs,
# tests/workloads/attrs.c): threads with SCHED_BATCH/IDLE/FIFO (with
# RESET_ON_FORK), nice values, CPU 0 and CPU 1 affinities, timer slacks,
# I/O priorities, securebits and KEEPCAPS, PR_TSC_SIGSEGV, MCE kill policy,
# no_new_privs in one thread only;
# per task oom_score_adj, loginuid, coredump_filter, THP disable,
# membarrier registrations, and in a child of its own session autogroup
# nice, dumpable 0, KSM merge-any and MDWE. Each thread compares what it
# sees of itself after the restore with what it had set.
FLAVORS="host pidns"
WORKLOAD=("$MINICR_BUILD_DIR/tests/workloads/minicr-test-attrs" "$S/a")
ATTRS_NAMES=(main batch idle fifo grp)

ready() {
	local n
	for n in "${ATTRS_NAMES[@]}"; do
		[[ -e "$S/a/ready.$n" ]] || return 1
	done
}

# attrs_verify GEN [DIR]: every thread checks itself; all must answer
# "GEN NAME OK" (task-attrs-refuse.sh uses it too).
attrs_verify() {
	local n bad=0 d=${2:-$S/a}
	echo "$1" >"$d/.verify.tmp"
	mv "$d/.verify.tmp" "$d/verify"
	for n in "${ATTRS_NAMES[@]}"; do
		if ! wait_until 20 eval "grep -q '^$1 ' '$d/result.$n' 2>/dev/null"; then
			echo "$n wrote no result for $1" >&2
			bad=1
			continue
		fi
		sed 's/^/    /' "$d/result.$n"
		grep -q "^$1 $n OK" "$d/result.$n" || bad=1
	done
	return $bad
}

check_before() { attrs_verify 1 || fail "the workload does not see its own attributes before the dump"; }
check_after() {
	attrs_verify 2 || return 1
	say "every thread and task has its scheduling and attributes back"
}
