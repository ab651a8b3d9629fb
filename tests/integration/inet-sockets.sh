#!/usr/bin/env bash
# TCP and UDP sockets in every state minicr restores, in one python3
# server, dumped and restored (twice from the same images, both PID
# methods):
#   a dual-stack TCP listener on [::] (IPV6_V6ONLY off, SO_REUSEADDR,
#     SO_REUSEPORT, backlog 7): reached over IPv4 and IPv6 after restore;
#   a UDP socket bound to 127.0.0.1 (echo) and a UDP socket connected to it;
#   a TCP socket bound to 127.0.0.1 but not listening, and an unbound one;
#   a plain TCP listener (no SO_REUSEADDR): still without it after restore.
# The server closes a connection after its client does, so no TIME_WAIT
# holds its ports (see files_inet.c on SO_REUSEADDR).
# Each connection to the listener gets a line describing the server's own
# sockets (getsockname, getsockopt), which must read the same as before the
# dump; each datagram is echoed, and the connected socket can still send.
source "$(dirname "$0")/_common.sh"
enter_pidns "$@"
setup_work

cat >"$WORK/server.py" <<'PY'
import os, select, socket, sys
S = socket
lst = S.socket(S.AF_INET6, S.SOCK_STREAM)
lst.setsockopt(S.SOL_SOCKET, S.SO_REUSEADDR, 1)
lst.setsockopt(S.SOL_SOCKET, S.SO_REUSEPORT, 1)
lst.setsockopt(S.IPPROTO_IPV6, S.IPV6_V6ONLY, 0)
lst.bind(("::", 0)); lst.listen(7)
udp = S.socket(S.AF_INET, S.SOCK_DGRAM); udp.bind(("127.0.0.1", 0))
cli = S.socket(S.AF_INET, S.SOCK_DGRAM); cli.connect(udp.getsockname())
bound = S.socket(S.AF_INET, S.SOCK_STREAM); bound.bind(("127.0.0.1", 0))
unbound = S.socket(S.AF_INET6, S.SOCK_STREAM)
plain = S.socket(S.AF_INET, S.SOCK_STREAM); plain.bind(("127.0.0.1", 0)); plain.listen(3)
def describe():
    o = lambda s, l, n: s.getsockopt(l, n)
    return ("lst=%s v6only=%d reuseaddr=%d reuseport=%d udp=%s cli=%s->%s bound=%s unbound=%s "
            "plain=%s reuseaddr=%d" % (
        lst.getsockname()[1], o(lst, S.IPPROTO_IPV6, S.IPV6_V6ONLY),
        o(lst, S.SOL_SOCKET, S.SO_REUSEADDR) != 0, o(lst, S.SOL_SOCKET, S.SO_REUSEPORT) != 0,
        udp.getsockname(), cli.getsockname()[1], cli.getpeername(), bound.getsockname(),
        unbound.getsockname()[:2], plain.getsockname(),
        o(plain, S.SOL_SOCKET, S.SO_REUSEADDR) != 0))
d = sys.argv[1]
with open(d + "/ports.tmp", "w") as f:
    f.write("%d %d %d\n" % (lst.getsockname()[1], udp.getsockname()[1], plain.getsockname()[1]))
os.rename(d + "/ports.tmp", d + "/ports")
while True:
    r, _, _ = select.select([lst, udp, plain], [], [])
    for l in (lst, plain):
        if l in r:
            c, _ = l.accept()
            c.sendall((describe() + "\n").encode())
            c.settimeout(5)
            try:
                c.recv(1)       # the client's EOF
            except OSError:
                pass
            c.close()
    if udp in r:
        data, peer = udp.recvfrom(100)
        if data == b"kick":
            # through the connected socket to udp itself, then back to the asker
            cli.send(b"from-cli")
            data, frm = udp.recvfrom(100)
            if frm != cli.getsockname():
                data = b"wrong-sender"
        udp.sendto(b"echo:" + data, peer)
PY

# ask_tcp HOST PORT / ask_udp PORT MSG
ask_tcp() {
	python3 -c 'import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
print(s.makefile().readline().strip())' "$1" "$2"
}
ask_udp() {
	python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(5)
s.sendto(sys.argv[2].encode(), ("127.0.0.1", int(sys.argv[1])))
print(s.recv(100).decode())' "$1" "$2"
}

mkdir -p "$WORK/d"
spawn_clean python3 "$WORK/server.py" "$WORK/d"
pid=$SPAWN_PID
TREES+=("$pid")
wait_for_file "$WORK/d/ports" 20 || fail "server did not start"
read -r lport uport pport <"$WORK/d/ports"
before=$(ask_tcp 127.0.0.1 "$lport") || fail "no answer before the dump"
[[ "$before" == *"v6only=0 reuseaddr=1 reuseport=1"* ]] || fail "unexpected description: $before"
[[ "$(ask_udp "$uport" x)" == "echo:x" ]] || fail "no UDP echo before the dump"
[[ "$(ask_tcp 127.0.0.1 "$pport")" == "$before" ]] || fail "plain listener: no answer before the dump"
[[ "$before" == *"reuseaddr=0" ]] || fail "plain listener has SO_REUSEADDR: $before"
say "before: $before"
img=$WORK/img
"$MINICR" dump -D "$img" "$pid" >"$WORK/dump.log" 2>&1 || { cat "$WORK/dump.log" >&2; fail "dump failed"; }
wait "$pid" 2>/dev/null || true
wait_gone "$pid" || fail "dumped server still there"
n=$("$MINICR_DECODE" decode "$img/files.img" | grep -o '"inet"' | wc -l)
[[ $n -eq 6 ]] || fail "files.img records $n inet sockets, expected 6"
ok "dumped 6 inet sockets"
for method in clone3 ns_last_pid; do
	for round in 1 2; do
		out=$("$MINICR" restore -d --pid-method=$method "$img" 2>"$WORK/restore.err") ||
			{ cat "$WORK/restore.err" >&2; fail "$method restore $round failed"; }
		check_untraced "$pid" || fail "$method restore $round: left traced"
		after=$(ask_tcp 127.0.0.1 "$lport") || fail "$method restore $round: no answer over IPv4"
		[[ "$after" == "$before" ]] ||
			fail "$method restore $round: sockets differ: before '$before', after '$after'"
		after6=$(ask_tcp ::1 "$lport") || fail "$method restore $round: no answer over IPv6"
		[[ "$after6" == "$before" ]] || fail "$method restore $round: over IPv6: '$after6'"
		[[ "$(ask_tcp 127.0.0.1 "$pport")" == "$before" ]] ||
			fail "$method restore $round: the plain listener does not answer"
		[[ "$(ask_udp "$uport" hi)" == "echo:hi" ]] || fail "$method restore $round: no UDP echo"
		[[ "$(ask_udp "$uport" kick)" == "echo:from-cli" ]] ||
			fail "$method restore $round: the connected UDP socket cannot send to its peer"
		# ss shows a listener's backlog as its Send-Q
		backlog=$(ss -Hltn "sport = :$lport" | awk '{ print $3 }')
		[[ "$backlog" == 7 ]] || fail "$method restore $round: listen backlog '$backlog', expected 7"
		ok "$method restore $round: TCP over IPv4 and IPv6 (backlog 7), UDP bound and connected: same as dumped"
		kill_tree "$pid"
		wait_gone "$pid" || fail "restored server not gone after SIGKILL"
	done
done
say "PASS"
