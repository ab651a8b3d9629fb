# File leases come back: a read lease and a write lease (F_SETLEASE) with
# F_SETSIG SIGRTMIN+2, taken again by the task through the same fds. After
# the restore F_GETLEASE reads the same, and opening the files from outside
# (for writing, for reading) makes the task get the lease-break signal with
# the right si_fd. The dump used to refuse any lease.
FLAVORS="host pidns migrate"
WORKLOAD=(/usr/bin/python3 "$CR_DIR/../workloads/leases.py" "$S")

ready() { [[ -e $S/ready ]]; }
check_after() {
	local want
	touch "$S/verify"
	wait_until 10 test -e "$S/armed" || { echo "not armed" >&2; cat "$S/wl.log" >&2; return 1; }
	# Each open waits until the holder gives its lease up.
	on_dst timeout 20 python3 -c 'import os, sys; os.open(sys.argv[1], os.O_WRONLY)' "$S/r.dat" &
	STARTED+=($!)
	on_dst timeout 20 python3 -c 'import os, sys; os.open(sys.argv[1], os.O_RDONLY)' "$S/w.dat" &
	STARTED+=($!)
	wait_until 15 test -e "$S/result" || { echo "no result" >&2; cat "$S/wl.log" >&2; return 1; }
	sed 's/^/    /' "$S/result"
	want="r fd 3 F_RDLCK
w fd 4 F_WRLCK
signal SIGRTMIN+2 si_fd 3 (r)
signal SIGRTMIN+2 si_fd 4 (w)"
	[[ "$(cat "$S/result")" == "$want" ]] || { diff <(echo "$want") "$S/result" >&2; return 1; }
	say "a read and a write lease: same F_GETLEASE, each broken with SIGRTMIN+2 and its si_fd"
}
