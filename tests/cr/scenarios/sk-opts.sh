# Socket options away from their defaults come back exactly, also on
# another host (migrate), in minicr-test-skopts: a TCP listener
# (keepalive, linger, locked buffers, timeouts, TCP_* and IP_* options,
# bound device, a locked classic BPF filter...), IPv4 and IPv6 UDP sockets, an unbound TCP socket, a unix
# stream pair and a unix datagram socket. The workload reads every option
# back after the restore and compares it with what it read before.
FLAVORS="host pidns migrate"
WORKLOAD=("$MINICR_BUILD_DIR/tests/workloads/minicr-test-skopts" "$S")

ready() { [[ -s "$S/ready" ]]; }
check_after() {
	# migrate streams the images: no files.img to look at on B
	[[ $FLAVOR == migrate ]] ||
		"$MINICR_DECODE" decode "$DST_IMG/files.img" | grep -q '"tcp_congestion":"reno"' ||
		{ echo "files.img records no TCP_CONGESTION" >&2; return 1; }
	touch "$S/verify"
	wait_until 10 test -e "$S/result" || { echo "the workload wrote no result" >&2; return 1; }
	sed 's/^/    /' "$S/result"
	grep -q '^OK ' "$S/result"
}
