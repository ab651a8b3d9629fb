#!/usr/bin/env bash
# eventfd, epoll, signalfd, timerfd across dump and restore
# (tests/workloads/event_loop.c): after restore, the epoll loop goes on
# (its periodic timerfd keeps firing, the eventfd it kicks and the pipe it
# writes to keep arriving with the same epoll data words), the signalfd still receives SIGUSR1, the
# eventfd counter (above 32 bits) and an EFD_SEMAPHORE eventfd's count are
# kept, and a one-shot timerfd that expired before the dump without being
# read still has its expiration to read. Twice from the same images, with
# both PID methods.
source "$(dirname "$0")/_common.sh"
: "${MINICR_TEST_EVENT:=$MINICR_BUILD_DIR/tests/workloads/minicr-test-event}"
[[ -x "$MINICR_TEST_EVENT" ]] || fail "missing $MINICR_TEST_EVENT (build first)"
enter_pidns "$@"
setup_work

# field NAME: NAME's value in $EDIR/status
field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" "$EDIR/status" 2>/dev/null; }

# wait_field NAME OP VALUE SECONDS: until the status says NAME OP VALUE
wait_field() {
	local i v
	for ((i = 0; i < $4 * 20; i++)); do
		v=$(field "$1")
		if [[ -n "$v" ]] && (($v $2 $3)); then
			return 0
		fi
		sleep 0.05
	done
	echo "status: $(cat "$EDIR/status" 2>/dev/null)" >&2
	return 1
}

EDIR=$WORK/ev
mkdir -p "$EDIR"
spawn_clean "$MINICR_TEST_EVENT" "$EDIR"
pid=$SPAWN_PID
TREES+=("$pid")
wait_for_file "$EDIR/ready" 20 || fail "event loop did not get ready"
kill -USR1 "$pid"
wait_field signals == 1 10 || fail "signalfd did not see SIGUSR1 before the dump"
sleep 0.2    # the one-shot timerfd (50 ms) has expired, unread
say "before the dump: $(cat "$EDIR/status")"
img=$WORK/img
"$MINICR" dump -D "$img" "$pid" >"$WORK/dump.log" 2>&1 || { cat "$WORK/dump.log" >&2; fail "dump failed"; }
wait "$pid" 2>/dev/null || true
wait_gone "$pid" || fail "dumped task still there"
ticks0=$(field ticks)
"$MINICR_DECODE" decode "$img/files.img" --pretty >"$WORK/files.json" ||
	fail "cannot decode files.img"
for k in eventfd epoll signalfd timerfd; do
	grep -q "\"$k\"" "$WORK/files.json" || { cat "$WORK/files.json" >&2; fail "no $k in files.img"; }
done
ok "dumped: files.img records eventfd, epoll, signalfd and timerfd"

for method in clone3 ns_last_pid; do
	for round in 1 2; do
		# a status left by the last round must not pass for this one's
		rm -f "$EDIR/phase2" "$EDIR/status"
		out=$("$MINICR" restore -d --pid-method=$method "$img" 2>"$WORK/restore.err") ||
			{ cat "$WORK/restore.err" >&2; fail "$method restore $round failed"; }
		[[ "$out" == "$pid" ]] || fail "$method restore $round: root $out, expected $pid"
		check_untraced "$pid" || fail "$method restore $round: left traced"
		wait_field ticks '>=' $((ticks0 + 10)) 10 ||
			fail "$method restore $round: the timerfd does not fire through epoll any more"
		wait_field kicks '>=' $((ticks0 + 10)) 10 ||
			fail "$method restore $round: the kicked eventfd is not seen through epoll"
		wait_field piped '>=' $((ticks0 + 10)) 10 ||
			fail "$method restore $round: the pipe's bytes are not seen through epoll"
		kill -USR1 "$pid"
		wait_field signals == 2 10 || fail "$method restore $round: signalfd missed SIGUSR1"
		touch "$EDIR/phase2"
		wait_field sem '>=' 0 10 || fail "$method restore $round: phase 2 not reached"
		[[ "$(field sem)" == 3 ]] ||
			fail "$method restore $round: semaphore eventfd gave $(field sem) units, expected 3"
		[[ "$(field oneshot)" == 1 ]] ||
			fail "$method restore $round: expired one-shot timerfd read $(field oneshot) ticks, expected 1"
		[[ "$(field counter)" == 0x123456789 ]] ||
			fail "$method restore $round: eventfd counter $(field counter), expected 0x123456789"
		[[ "$(field errors)" == 0 ]] || fail "$method restore $round: $(cat "$EDIR/status")"
		ok "$method restore $round: $(cat "$EDIR/status")"
		kill_tree "$pid"
		wait_gone "$pid" || fail "restored task not gone after SIGKILL"
	done
done
say "PASS"
