#!/usr/bin/env bash
# Unix sockets across dump + restore (minicr-test-sk, tests/workloads/sk_pair.c):
#  - stream, dgram and seqpacket socketpairs between a parent and a child,
#    each end with unread data queued (1000/300 bytes; 5/3 messages of
#    different sizes, an empty datagram among them): after restore each
#    end receives exactly that, message boundaries kept, then new data and
#    EOF;
#  - a listener on a path with an accepted connection holding 100 unread
#    bytes and two pending (not accepted) connections: after restore the
#    data is there, accept() returns the pending ones in order, and a new
#    connection to the path works;
#  - datagram sockets bound to a path and to an abstract name, with
#    datagrams queued from an unconnected sender: after restore they are
#    there in order (sent again to the name), then new ones;
#  - a stream and a seqpacket socket whose peer was closed after sending:
#    the data, then EOF;
#  - datagram sockets connected one way to a socket bound to a path, one
#    unnamed, one with an abstract name, with datagrams queued both ways,
#    and a socketpair end bound to a path after socketpair(): messages,
#    sender addresses, names and peer names as before.
# Each also with --leave-running first: the dump must not consume anything.
source "$(dirname "$0")/_common.sh"
: "${MINICR_TEST_SK:=$MINICR_BUILD_DIR/tests/workloads/minicr-test-sk}"
enter_pidns "$@"
setup_work
[[ -x "$MINICR_TEST_SK" ]] || fail "missing $MINICR_TEST_SK"

start_sk() {
	local d=$1
	shift
	mkdir -p "$d"
	SPAWN_OUT=$d/log spawn_clean "$MINICR_TEST_SK" --dir "$d" "$@"
	disown "$SPAWN_PID"
	TREES+=("$SPAWN_PID")
	wait_for_file "$d/ready" 20 || { cat "$d/log" >&2; fail "workload $* not ready"; }
}

finish() {
	local d=$1 what=$2
	touch "$d/go"
	wait_for_file "$d/result" 20 || { cat "$d/log" >&2; fail "$what: no result"; }
	grep -q '^OK ' "$d/result" || { cat "$d/result" "$d/log" >&2; fail "$what: $(cat "$d/result")"; }
	ok "$what: $(cat "$d/result")"
}

for mode in ${UNIX_TEST_MODES:-stream dgram seqpacket listen dgram-bound peer-closed dgram-connect}; do
	d=$WORK/$mode-lr
	start_sk "$d" --mode "$mode"
	read -r -a pids <"$d/ready"
	"$MINICR" dump --leave-running -D "$WORK/img-$mode-lr" "${pids[0]}" >"$WORK/dump.log" 2>&1 ||
		{ cat "$WORK/dump.log" >&2; fail "$mode: dump --leave-running failed"; }
	finish "$d" "$mode, after dump --leave-running"
	wait_gone "${pids[@]}" || fail "$mode: workload did not finish"

	d=$WORK/$mode
	start_sk "$d" --mode "$mode"
	read -r -a pids <"$d/ready"
	img=$WORK/img-$mode
	"$MINICR" dump -D "$img" "${pids[0]}" >"$WORK/dump.log" 2>&1 ||
		{ cat "$WORK/dump.log" >&2; fail "$mode: dump failed"; }
	wait_gone "${pids[@]}" || fail "$mode: the dumped tree is not gone"
	"$MINICR" restore -d "$img" >"$WORK/restore.out" 2>"$WORK/restore.err" ||
		{ cat "$WORK/restore.err" >&2; fail "$mode: restore failed"; }
	for p in "${pids[@]}"; do
		[[ -d /proc/$p ]] || fail "$mode: restored task $p missing"
	done
	check_untraced "${pids[0]}" || fail "$mode: tasks left traced"
	finish "$d" "$mode, after dump + restore"
	wait_gone "${pids[@]}" || fail "$mode: restored tree did not finish"
done
say "PASS"
