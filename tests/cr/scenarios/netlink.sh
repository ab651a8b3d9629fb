# Netlink sockets come back bound to the same port ids with their groups
# (also one above 32), NETLINK_PKTINFO and SO_RCVBUF: an rtnetlink monitor,
# an unbound request socket (which then gets the answer to a link dump) and
# a generic netlink socket bound to a chosen port id. migrate: the workload
# adds an address to lo in host B's network namespace and the monitor gets
# the RTM_NEWADDR event (host and pidns leave the host's addresses alone). A socket
# with an answer not read yet is refused at dump.
FLAVORS="host pidns migrate"
if [[ $FLAVOR == migrate ]]; then EV=--event; else EV=; fi
WORKLOAD=(/usr/bin/python3 "$CR_DIR/../workloads/netlink_socks.py" "$S" $EV)

ready() { [[ -e $S/ready ]]; }
# An answer the task has not read yet cannot be put back: refused.
check_before() {
	local o=$S/queued
	mkdir -p "$o"
	SPAWN_OUT=$S/queued.log spawn_clean /usr/bin/python3 -c 'import socket, struct, sys, time
s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, socket.NETLINK_ROUTE)
s.send(struct.pack("=LHHLL", 32, 18, 0x301, 1, 0) + struct.pack("=BxHiII", 0, 0, 0, 0, 0))
time.sleep(0.5); open(sys.argv[1] + "/ready", "w").close(); time.sleep(1000)' "$o"
	STARTED+=("$SPAWN_PID")
	wait_until 10 test -e "$o/ready" || { echo "the queued-answer workload did not start" >&2; return 1; }
	expect_fail "a netlink answer not read yet" \
		"task $SPAWN_PID: fd 3 \(socket:\[[0-9]+\]\): netlink socket \(protocol 0\) with [0-9]+ bytes of messages queued" \
		"$MINICR" dump -D "$S/img-queued" "$SPAWN_PID"
	alive "$SPAWN_PID" || { echo "the refused tree is gone" >&2; return 1; }
	kill_tree "$SPAWN_PID"
}
check_after() {
	local want="state same
answer yes"
	[[ -n $EV ]] && want+=$'\nevent RTM 20'
	workload_result "$want" 15 || return 1
	say "netlink sockets with their port ids, groups and options"
}
