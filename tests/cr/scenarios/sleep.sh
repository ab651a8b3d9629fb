# `sleep 1000`: keeps its PID (in its namespace), command line and fds 0-2,
# and sleeps on in nanosleep after the restore. host: restored again
# without -d, minicr writes --pidfile, waits for the root and exits 143
# when it dies of SIGTERM.
FLAVORS="host pidns migrate"
WORKLOAD=(sleep 1000)

in_nanosleep() { [[ " 35 230 " == *" $(awk '{ print $1 }' "/proc/$ROOT/syscall") "* ]]; }
ready() { in_nanosleep; }
check_after() {
	[[ "$(tr '\0' ' ' <"/proc/$ROOT/cmdline")" == "sleep 1000 " ]] || { echo "cmdline changed" >&2; return 1; }
	sleep 1
	[[ "$(state_of "$ROOT")" == S ]] || { echo "state '$(state_of "$ROOT")' after 1 s, want S" >&2; return 1; }
	wait_until 5 in_nanosleep || { echo "not back in nanosleep" >&2; return 1; }
	[[ "$(ls "/proc/$ROOT/fd" | sort -n | xargs)" == "0 1 2" ]] || { echo "fds: $(ls "/proc/$ROOT/fd" | xargs)" >&2; return 1; }
	[[ $FLAVOR == host ]] || return 0
	local m rc=0 p=$ROOT
	kill_pids "$p"
	wait_gone "$p" || return 1
	"$MINICR" restore --pidfile "$S/pidfile" "$DST_IMG" 2>"$S/nodetach.log" &
	m=$!
	wait_until 10 test -e "$S/pidfile" || { echo "no pidfile" >&2; return 1; }
	[[ "$(cat "$S/pidfile")" == "$p" ]] || { echo "pidfile says $(cat "$S/pidfile"), want $p" >&2; return 1; }
	wait_until 5 in_nanosleep || { echo "restored without -d: not asleep" >&2; return 1; }
	kill -0 "$m" 2>/dev/null || { echo "minicr restore without -d did not wait for the root" >&2; return 1; }
	kill -TERM "$p"
	wait "$m" || rc=$?
	((rc == 143)) || { echo "minicr restore without -d exited $rc after SIGTERM to the root, want 143" >&2; return 1; }
	say "restored without -d: pidfile $p, minicr exited 143 when the root died of SIGTERM"
}
