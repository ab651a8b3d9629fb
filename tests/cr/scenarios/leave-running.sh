# minicr dump --leave-running, then a restore into a new PID namespace
# (pidns) or on host B (migrate): two independent copies of the same
# running program. The workload (python3) counts in its own memory and
# shows the count as its name (prctl PR_SET_NAME "nN"): the original goes
# on counting, the copy goes on from the count at dump time, and both keep
# counting on their own.
FLAVORS="pidns migrate"
WORKLOAD=(/usr/bin/python3 -c '
import ctypes, time
libc = ctypes.CDLL(None)
i = 0
while True:
    i += 1
    libc.prctl(15, b"n%d" % i, 0, 0, 0)
    time.sleep(0.02)
')

count() { local c; c=$(cat "/proc/$1/comm" 2>/dev/null) || return 1; [[ $c == n* ]] || return 1; echo "${c#n}"; }
ready() { local c; c=$(count "$ROOT") && ((c > 10)); }

# grows PID FROM: the count of PID goes above FROM (5 s)
above() { local c; c=$(count "$1") && ((c > $2 + 10)); }
grows() { wait_until 5 above "$1" "$2"; }

scenario_main() {
	local orig c0 c1 copy
	flavor_spawn "${WORKLOAD[@]}"
	orig=$ROOT
	STARTED+=("$orig")
	wait_until 20 ready || fail "python3 does not count"
	cr_dump --leave-running
	c0=$(count "$orig") || fail "the original is gone after dump --leave-running"
	check_untraced "$orig" || fail "the original is left traced"
	grows "$orig" "$c0" || fail "the original stopped counting after the dump (at $c0)"
	move_images
	cr_restore
	copy=$ROOT
	[[ "$copy" != "$orig" ]] || fail "the copy has the original's PID here"
	[[ "$(ns_pid "$copy")" == "$(ns_pid "$orig")" ]] || fail "the copy is PID $(ns_pid "$copy") in its namespace, the original $(ns_pid "$orig")"
	c1=$(count "$copy") || fail "the copy does not run"
	((c1 <= c0 + 200)) || fail "the copy starts at $c1, far above the count at dump time $c0"
	grows "$copy" "$c1" || fail "the copy does not count (at $c1)"
	c0=$(count "$orig")
	grows "$orig" "$c0" || fail "the original stopped counting after the restore"
	check_untraced "$copy" || fail "the copy is left traced"
	kill_tree "$copy"
	wait_gone "$copy" || fail "the copy is not gone after SIGKILL"
	c0=$(count "$orig")
	grows "$orig" "$c0" || fail "killing the copy stopped the original"
	ok "two copies: the original (PID $orig here) and the restored one (PID $copy here), both PID $(ns_pid "$orig") inside, counting on their own"
}
