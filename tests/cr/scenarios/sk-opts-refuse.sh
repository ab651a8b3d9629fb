# Socket state minicr cannot restore is refused at dump, naming task, fd
# and the state, and the tree runs on untraced: an eBPF socket filter, a
# datagram queued on a UDP socket, a multicast group joined, a TCP
# listener with an MD5 signature key, a unix
# connection not yet accepted that already carries data.
FLAVORS="host pidns"

refuse() {
	local case=$1 pat=$2
	rm -f "$S/ready"
	flavor_spawn "$MINICR_BUILD_DIR/tests/workloads/minicr-test-skopts" "$S" "$case"
	STARTED+=("$ROOT")
	wait_until 10 test -s "$S/ready" || { cat "$S/wl.log" >&2; fail "$case: the workload did not start"; }
	mapfile -t TREE < <(tree_pids "$ROOT")
	tree_shape "$ROOT" >"$S/intact"
	expect_fail "$case" "task $DUMP_PID: fd [0-9]+ \(socket:\[[0-9]+\]\).*$pat" \
		"$MINICR" dump -D "$S/img-$case" "$DUMP_PID"
	[[ ! -e "$S/img-$case/inventory.img" ]] || fail "$case: inventory.img written"
	tree_intact "$case"
	ok "$case: refused, the tree runs on"
	kill_tree "$ROOT"
	wait_gone "${TREE[@]}"
}

scenario_main() {
	refuse ebpf "eBPF socket filter"
	refuse udp-queued "datagrams queued"
	refuse mcast "multicast group 239.7.7.7"
	refuse tcp-md5 "TCP_MD5SIG keys"
	refuse unix-pending-data "pending connection 1 .*already carries data"
}
