#!/usr/bin/env bash
# A real server: `python3 -m http.server` listening on 127.0.0.1 and on
# ::1, dumped after it served a request, restored (twice from the same
# images, both PID methods): it answers again on the same ports with the
# same content. Its stdio is /dev/null.
source "$(dirname "$0")/_common.sh"
enter_pidns "$@"
setup_work
command -v curl >/dev/null || fail "curl is missing"

free_port() {
	python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$1"
}

# get HOST PORT: the page, or fail
get() { curl -sS --max-time 5 "http://$1:$2/hello.txt"; }

mkdir -p "$WORK/www"
echo "hello from minicr $$" >"$WORK/www/hello.txt"
want=$(cat "$WORK/www/hello.txt")
declare -A PIDS PORTS
for host in 127.0.0.1 ::1; do
	port=$(free_port "$host")
	spawn_clean python3 -m http.server --bind "$host" --directory "$WORK/www" "$port"
	PIDS[$host]=$SPAWN_PID
	PORTS[$host]=$port
	TREES+=("$SPAWN_PID")
done
for host in 127.0.0.1 ::1; do
	url_host=$host
	[[ $host == *:* ]] && url_host="[$host]"
	for ((i = 0; i < 100; i++)); do
		get "$url_host" "${PORTS[$host]}" >/dev/null 2>&1 && break
		sleep 0.1
	done
	[[ "$(get "$url_host" "${PORTS[$host]}")" == "$want" ]] ||
		fail "http.server on $host:${PORTS[$host]} does not answer before the dump"
	pid=${PIDS[$host]}
	img=$WORK/img-$pid
	"$MINICR" dump -D "$img" "$pid" >"$WORK/dump.log" 2>&1 ||
		{ cat "$WORK/dump.log" >&2; fail "dump of http.server $pid ($host) failed"; }
	wait "$pid" 2>/dev/null || true
	wait_gone "$pid" || fail "dumped server $pid still there"
	if get "$url_host" "${PORTS[$host]}" >/dev/null 2>&1; then
		fail "something still answers on $host:${PORTS[$host]} after the dump"
	fi
	"$MINICR_DECODE" decode "$img/files.img" >"$WORK/files.json"
	grep -q '"inet"' "$WORK/files.json" || fail "no inet socket in files.img"
	ok "$host: dumped a listening server on port ${PORTS[$host]}"
	for method in clone3 ns_last_pid; do
		for round in 1 2; do
			out=$("$MINICR" restore -d --pid-method=$method "$img" 2>"$WORK/restore.err") ||
				{ cat "$WORK/restore.err" >&2; fail "$host $method restore $round failed"; }
			[[ "$out" == "$pid" ]] || fail "restore gave root $out, expected $pid"
			check_untraced "$pid" || fail "$host $method restore $round: left traced"
			got=$(get "$url_host" "${PORTS[$host]}") ||
				fail "$host $method restore $round: no answer on port ${PORTS[$host]}"
			[[ "$got" == "$want" ]] || fail "$host $method restore $round: got '$got'"
			got=$(get "$url_host" "${PORTS[$host]}") ||
				fail "$host $method restore $round: no answer to a second request"
			ok "$host $method restore $round: http.server answers on port ${PORTS[$host]}"
			kill_tree "$pid"
			wait_gone "$pid" || fail "restored server not gone after SIGKILL"
		done
	done
done
say "PASS"
