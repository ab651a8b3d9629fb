# tests/cr/lib/fattrs.sh: the cycle hooks of a minicr-test-fattrs scenario.
# The workload rewrites $S/status every 50 ms: "ok N" after N rounds of
# self-checks, or "FAIL what". After the restore it must go on passing.

fattrs_status() { cat "$S/status" 2>/dev/null || true; }
fattrs_rounds() { local s; s=$(fattrs_status); [[ $s == ok\ * ]] && echo "${s#ok }" || echo -1; }
ready() { (($(fattrs_rounds) > 2)); }
fattrs_advanced() {
	local s
	s=$(fattrs_status)
	[[ $s == FAIL* ]] && return 0
	(($(fattrs_rounds) >= $1 + 5))
}
check_after() {
	local s n
	n=$(fattrs_rounds)
	((n >= 0)) || fail "after the restore: $(fattrs_status)"
	wait_until 10 fattrs_advanced "$n" || fail "the workload does not go on after the restore"
	s=$(fattrs_status)
	[[ $s == ok\ * ]] || fail "after the restore: $s"
	say "the workload checked itself after the restore: $s"
	declare -F fattrs_check_after >/dev/null && fattrs_check_after
	return 0
}
