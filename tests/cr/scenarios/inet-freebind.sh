# Sockets bound with IP_FREEBIND / IPV6_FREEBIND to addresses that no
# interface of the host has (a TCP listener on 10.99.99.99, a UDP socket on
# fd00::99) come back bound to them with the option set, also on another
# host (migrate), where the addresses are not there either.
FLAVORS="host pidns migrate"
WORKLOAD=(/usr/bin/python3 "$CR_DIR/../workloads/inet_freebind.py" "$S")

ready() { [[ -e $S/ready ]]; }
check_after() {
	local want="tcp 10.99.99.99:4321 freebind 1
udp6 fd00::99:4322 freebind 1"
	workload_result "$want" || return 1
	say "bound to addresses the host does not have, IP_FREEBIND kept"
}
