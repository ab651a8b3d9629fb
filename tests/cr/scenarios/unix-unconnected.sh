# Unix sockets that are not connected come back as they were: an
# unconnected stream and seqpacket socket (which then connect to listeners
# made after the restore), a stream socket bound but not listening (same
# name), an unbound datagram socket, and a socketpair end shut down for
# writing (its peer reads EOF, it gets EPIPE). The dump used to fail on the
# first two (recvmsg(MSG_PEEK) of a socket that has no queue yet).
FLAVORS="host pidns migrate"
WORKLOAD=(/usr/bin/python3 "$CR_DIR/../workloads/unix_unconnected.py" "$S")

ready() { [[ -e $S/ready ]]; }
check_after() {
	local l want
	for l in stream seqpacket; do
		on_dst python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM if sys.argv[2] == "stream" else socket.SOCK_SEQPACKET)
s.bind(sys.argv[1]); s.listen(); time.sleep(30)' "$S/listener.$l" "$l" </dev/null >/dev/null 2>&1 &
		STARTED+=($!)
	done
	wait_until 5 eval 'test -S "$S/listener.stream" && test -S "$S/listener.seqpacket"' ||
		{ echo "the listeners did not start" >&2; return 1; }
	want="stream type ok
seqpacket type ok
bound type ok
dgram type ok
bound name $S/bound.sock
shut-down peer reads b''
stream connects ok
seqpacket connects ok
shut-down end sends BrokenPipeError"
	workload_result "$want" || return 1
	say "unconnected, bound, unbound and shut-down unix sockets all as they were"
}
