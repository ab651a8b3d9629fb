# Seccomp comes back per thread (minicr-test-seccomp, tests/workloads/
# seccomp.c): stacked filters shared by three threads through TSYNC, one
# thread's own extra filter, a forked child's inherited and added filters,
# SECCOMP_FILTER_FLAG_LOG, strict mode, and a task whose filter kills it on
# every system call minicr's dump makes remotely (it must survive a
# --leave-running dump and the real one). After the restore every thread
# still checks itself (filtered calls fail with their errno, the others
# work, /proc counts match), sc-t1's TSYNC succeeds (the threads share their
# filters again) and sc-strict dies of a getpid(). A tree restored
# unconfined fails every check.
FLAVORS="host pidns"
WORKLOAD=("$MINICR_BUILD_DIR/tests/workloads/minicr-test-seccomp" "$S/sc")
NAMES=(sc-main sc-t1 sc-t2 sc-child sc-killer)

flavor_setup_hook() { mkdir -p "$S/sc"; }

# rounds: "NAME N" per checker; fails on a FAIL line.
rounds() {
	local n l
	for n in "${NAMES[@]}"; do
		l=$(cat "$S/sc/$n" 2>/dev/null) || l=
		[[ $l != FAIL* ]] || fail "$l"
		[[ $l =~ ^round\ ([0-9]+)\ ok$ ]] || return 1
		echo "$n ${BASH_REMATCH[1]}"
	done
}
ready() { rounds >/dev/null; }

# went_on: every checker reports more rounds, all ok, than in $1.
went_on() {
	local now
	now=$(rounds) || return 1
	join "$1" <(echo "$now") | awk '$3 <= $2 { bad = 1 } END { exit bad }'
}
all_went_on() {
	local before=$S/rounds.$1
	rounds >"$before" || fail "$1: a checker has not reported"
	wait_until 10 went_on "$before" || { rounds >&2 || true; fail "$1: the checkers stand still"; }
	rounds >/dev/null
}

# modes: "COMM MODE/FILTERS..." per task of the tree (threads in TID
# order), sorted by comm.
modes() {
	local p
	for p in $(tree_pids "$ROOT"); do
		(cd "/proc/$p/task" 2>/dev/null && awk -v comm="$(cat ../comm)" '
			FNR == 1 && NR == 1 { printf "%s", comm }
			/^Seccomp:/ { m = $2 }
			/^Seccomp_filters:/ { printf " %s/%s", m, $2 }
			END { print "" }' $(ls | sort -n | sed 's|$|/status|'))
	done | sort
}

expect_modes() {
	modes >"$S/modes"
	diff -u - "$S/modes" >&2 <<-EOF || fail "$1: seccomp mode/filters per thread differ (diff above)"
		sc-child 2/3
		sc-killer 2/1
		sc-main 2/3 2/4 2/3
		sc-strict 1/0
	EOF
	say "$1: seccomp modes and filter counts per thread as expected"
}

# seccomp_images DIR: per task (by comm) its filter table and per-thread
# mode and chain, from the decoded core images.
seccomp_images() {
	local f
	for f in "$1"/core-*.img; do
		decoded "$f" | jq -c '.entries[0] | [.comm, (.seccomp_filters // []),
			[.threads[]? | [.seccomp_mode, .seccomp_chain]]]'
	done | sort
}

check_before() {
	expect_modes "before"
	# sc-killer dies on the remote calls of a dump that does not suspend
	# its filter; the tree must run on exactly as before.
	on_src "$MINICR" dump --leave-running -D "$S/lr" "$DUMP_PID" >"$S/lr.log" 2>&1 ||
		{ cat "$S/lr.log" >&2; fail "dump --leave-running failed"; }
	check_untraced "$ROOT" || fail "tasks left traced after dump --leave-running"
	all_went_on "after dump --leave-running"
	expect_modes "after dump --leave-running"
	seccomp_images "$S/lr" >"$S/sc.lr"
	sed 's/^/    | /' "$S/sc.lr"
	grep -q '^\["sc-main",\[{"prog":"[^"]*"},{"prog":"[^"]*"},{"prog":"[^"]*"},{"prog":"[^"]*"}\],\[\[2,\[0,1,2\]\],\[2,\[0,1,2,3\]\],\[2,\[0,1,2\]\]\]\]$' "$S/sc.lr" ||
		fail "sc-main's image: not 4 filters and chains 0,1,2 / 0,1,2,3 / 0,1,2"
	grep -q '^\["sc-killer",\[{"prog":"[^"]*","flags":2}\],\[\[2,\[0\]\]\]\]$' "$S/sc.lr" ||
		fail "sc-killer's image: not one filter with SECCOMP_FILTER_FLAG_LOG"
	grep -q '^\["sc-strict",\[\],\[\[1,null\]\]\]$' "$S/sc.lr" || fail "sc-strict's image: not strict mode"
	ok "dump --leave-running: the tree runs on (sc-killer too), images as expected"
}

check_after() {
	expect_modes "after the restore"
	all_went_on "after the restore"
	# Dumped again, the restored tree gives the same seccomp state.
	on_dst "$MINICR" dump --leave-running -D "$S/again" "$ROOT" >"$S/again.log" 2>&1 ||
		{ cat "$S/again.log" >&2; fail "dump --leave-running of the restored tree failed"; }
	seccomp_images "$S/again" >"$S/sc.again"
	diff -u "$S/sc.lr" "$S/sc.again" >&2 || fail "the restored tree's seccomp state differs (diff above)"
	ok "the restored tree dumps to the same filters, flags, chains and modes"
	touch "$S/sc/tsync"
	wait_until 5 test -s "$S/sc/tsync.out" || fail "no TSYNC result"
	[[ "$(cat "$S/sc/tsync.out")" == ok ]] || fail "TSYNC after the restore: $(cat "$S/sc/tsync.out")"
	all_went_on "after TSYNC"
	ok "sc-main's TSYNC fails on sc-t1, sc-t1's succeeds: the threads share their filters"
	touch "$S/sc/strict-kill"
	wait_until 5 test -s "$S/sc/strict.out" || fail "no strict-mode result"
	[[ "$(cat "$S/sc/strict.out")" == ok ]] || fail "strict mode after the restore: $(cat "$S/sc/strict.out")"
	ok "sc-strict is still in strict mode: getpid() killed it"
}
