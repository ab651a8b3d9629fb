# `sleep 1000`: keeps its PID (in its namespace), command line and fds 0-2,
# and sleeps on in nanosleep after the restore.
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
}
