#!/usr/bin/env bash
# What minicr does not restore is refused at dump, before the tree is
# touched, with a message naming the task, the fd and the addresses; the
# tree goes on running, untraced, and no complete image set is left:
#   an established TCP connection (both ends in the tree);
#   a listener with a connection waiting in its accept queue;
#   a listener of another network namespace (inet_diag does not list it).
source "$(dirname "$0")/_common.sh"
enter_pidns "$@"
setup_work

# The workload beats: it rewrites DIR/beat every 50 ms with a counter.
cat >"$WORK/conn.py" <<'PY'
import os, socket, sys, time
d, mode = sys.argv[1], sys.argv[2]
lst = socket.socket(); lst.bind(("127.0.0.1", 0)); lst.listen(4)
keep = [lst]
if mode == "established":
    c = socket.create_connection(lst.getsockname()); a, _ = lst.accept()
    keep += [c, a]
    info = "%d %d" % (lst.getsockname()[1], c.getsockname()[1])
else:
    info = "%d" % lst.getsockname()[1]
with open(d + "/info", "w") as f:
    f.write(info + "\n")
n = 0
while True:
    n += 1
    with open(d + "/beat.tmp", "w") as f:
        f.write("%d\n" % n)
    os.rename(d + "/beat.tmp", d + "/beat")
    time.sleep(0.05)
PY

# still_running PID DIR: untraced and beating
still_running() {
	local b0 i
	check_untraced "$1" || return 1
	b0=$(cat "$2/beat")
	for ((i = 0; i < 100; i++)); do
		(($(cat "$2/beat") > b0)) && return 0
		sleep 0.05
	done
	echo "task $1 stopped beating" >&2
	return 1
}

# refused PID DIR PATTERN WHAT
refused() {
	local img=$WORK/img-$1
	if "$MINICR" dump -D "$img" "$1" >"$WORK/dump.log" 2>&1; then
		fail "$4: dump succeeded"
	fi
	cat "$WORK/dump.log"
	grep -q -- "$3" "$WORK/dump.log" || fail "$4: the message does not say '$3'"
	[[ ! -e "$img/inventory.img" ]] || fail "$4: inventory.img written"
	still_running "$1" "$2" || fail "$4: the tree does not go on after the refused dump"
	ok "$4: refused, and the tree goes on"
}

mkdir -p "$WORK/e"
spawn_clean python3 "$WORK/conn.py" "$WORK/e" established
pe=$SPAWN_PID
TREES+=("$pe")
wait_for_file "$WORK/e/beat" 20 || fail "established workload did not start"
read -r lport cport <"$WORK/e/info"
refused "$pe" "$WORK/e" "established TCP connections are not supported yet" "established connection"
grep -q "task $pe: fd [0-9]* (socket:\[[0-9]*\]) is a TCP connection 127.0.0.1:$cport -> 127.0.0.1:$lport (ESTABLISHED)" \
	"$WORK/dump.log" || grep -q "127.0.0.1:$lport -> 127.0.0.1:$cport" "$WORK/dump.log" ||
	fail "the message does not name the task, fd and 4-tuple"

mkdir -p "$WORK/p"
spawn_clean python3 "$WORK/conn.py" "$WORK/p" pending
pp=$SPAWN_PID
TREES+=("$pp")
wait_for_file "$WORK/p/beat" 20 || fail "pending workload did not start"
read -r lport <"$WORK/p/info"
# a client outside the tree, whose connection nobody accepts
spawn_clean python3 -c 'import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); time.sleep(60)' "$lport"
TREES+=("$SPAWN_PID")
for ((i = 0; i < 200; i++)); do
	[[ "$(ss -Htln "sport = :$lport" | awk '{ print $2 }')" == 1 ]] && break
	sleep 0.05
done
[[ "$(ss -Htln "sport = :$lport" | awk '{ print $2 }')" == 1 ]] ||
	fail "the client's connection is not in the accept queue of port $lport"
refused "$pp" "$WORK/p" "waiting to be accepted" "pending connection"
grep -q "task $pp: fd [0-9]* .* listens on 127.0.0.1:$lport with 1 connection" "$WORK/dump.log" ||
	fail "the message does not name the task, fd and address"
mkdir -p "$WORK/n"
spawn_clean unshare -n python3 "$WORK/conn.py" "$WORK/n" pending
pn=$SPAWN_PID
TREES+=("$pn")
wait_for_file "$WORK/n/beat" 20 || fail "workload in its own network namespace did not start"
refused "$pn" "$WORK/n" "a socket of another network namespace cannot be dumped" \
	"listener in another network namespace"
say "PASS"
