# tests/cr/lib/flavors.sh: where a workload runs, is dumped and restored.
#
#   host     the workload is a child of the scenario's shell; dumped and
#            restored in the scenario's PID namespace (same PIDs).
#   pidns    the workload is the init of a PID namespace of its own
#            (unshare --pid --mount-proc); restored with --pidns into a new
#            one (same PIDs inside, new ones outside).
#   migrate  two simulated hosts A and B, each its own PID, mount, UTS and
#            network namespace (PID 1: sleep), with its own tmpfs "disk" at
#            $S/disk; joined by a veth pair (A 10.231.0.1,
#            B 10.231.0.2). A third network namespace C (the client) has a
#            bridge with a leg to each host (C 10.231.0.65, A .66, B .67).
#            The workload starts in A (own session); `minicr dump --stream`
#            in A sends the images through nc over the veth to B, where
#            they are held in memory until `minicr restore --stream` in B
#            reads them and restores the tree with the same PIDs (no image
#            directory on either side). The service
#            address 10.231.0.100 can be moved from A to B (move_service).
#
# Every PID a scenario handles (ROOT, tree_pids) is as the scenario's own
# namespace sees it, whichever flavor; ns_pid gives the task's own view.
# The interface for the standard cycle (lib/cycle.sh) and for scenarios:
#   flavor_setup / flavor_cleanup
#   flavor_spawn CMD...      start the workload; sets ROOT and DUMP_PID
#                            (the PID to give to minicr dump)
#   on_src CMD... / on_dst CMD...   run a command on the dumping / restoring
#                            side (plain here, inside host A / B for migrate)
#   SRC_IMG / DST_IMG        image directories as each side sees them
#                            (host and pidns; migrate streams, has none)
#   move_images              SRC_IMG -> DST_IMG (mv; migrate: waits until
#                            B holds the whole stream)
#   stream_dump / stream_restore   migrate's cr_dump / cr_restore
#   restore_args             extra minicr restore arguments (--pidns)
#   outer_pid NSPID          a PID printed by minicr restore on the
#                            destination, as seen from here
# Addresses: only inside the namespaces created here; all are deleted with
# them (killing each namespace's PID 1 / holder).

HOST_A= HOST_B= CLIENT_NS= HOLDERS=()
SRC_IMG= DST_IMG=

flavor_setup() {
	case $FLAVOR in
	host | pidns)
		SRC_IMG=$S/img
		DST_IMG=$S/img.moved
		;;
	migrate)
		SRC_IMG= DST_IMG=
		migrate_setup
		;;
	*) fail "unknown flavor $FLAVOR" ;;
	esac
}

flavor_cleanup() {
	local h
	# Killing a host's unshare (--kill-child) kills its PID 1 and with it
	# every task of its PID namespace; its network namespace (veths, the
	# service address) and its tmpfs go when nothing is left in them.
	for h in "${HOLDERS[@]}"; do
		kill -KILL "$h" 2>/dev/null || true
	done
	for h in "${HOLDERS[@]}"; do
		wait "$h" 2>/dev/null || true
	done
	HOLDERS=()
}

# nsenter into host $1 (the outer PID of its PID 1)
in_host() {
	local h=$1
	shift
	nsenter -t "$h" -p -m -n -u -- "$@"
}

on_src() {
	if [[ $FLAVOR == migrate ]]; then in_host "$HOST_A" "$@"; else "$@"; fi
}
on_dst() {
	if [[ $FLAVOR == migrate ]]; then in_host "$HOST_B" "$@"; else "$@"; fi
}

restore_args() {
	if [[ $FLAVOR == pidns ]]; then echo --pidns; fi
}

# new_host NAME: a namespace set whose PID 1 is `sleep infinity`, with a
# private tmpfs on $S/disk; sets NEW_HOST (outer PID of its PID 1).
new_host() {
	local name=$1 u
	mkdir -p "$S/disk"
	unshare --pid --fork --mount --uts --net --mount-proc --kill-child=SIGKILL -- \
		bash -c 'mount -t tmpfs -o size=1g,mode=0700 "minicr-$2" "$1" && hostname "$2" &&
			ip link set lo up && exec sleep infinity' host "$S/disk" "$name" \
		</dev/null >>"$S/$name.log" 2>&1 &
	u=$!
	HOLDERS+=("$u")
	NEW_HOST=$(child_of "$u") || fail "host $name did not start: $(cat "$S/$name.log")"
	wait_until 5 is_comm "$NEW_HOST" sleep ||
		fail "host $name: its PID 1 is not up: $(cat "$S/$name.log")"
	[[ "$(in_host "$NEW_HOST" hostname)" == "$name" ]] || fail "host $name: hostname not set"
}

migrate_setup() {
	local u
	new_host hostA
	HOST_A=$NEW_HOST
	new_host hostB
	HOST_B=$NEW_HOST
	unshare --net --uts -- sleep infinity </dev/null >/dev/null 2>&1 &
	u=$!
	HOLDERS+=("$u")
	CLIENT_NS=$u
	wait_until 5 is_comm "$u" sleep ||
		fail "client namespace did not start"
	{
		# A <-> B: the link the images travel on.
		nsenter -t "$HOST_A" -n ip link add eth1 type veth peer name eth1 netns "$HOST_B"
		nsenter -t "$HOST_A" -n ip addr add 10.231.0.1/30 dev eth1
		nsenter -t "$HOST_B" -n ip addr add 10.231.0.2/30 dev eth1
		nsenter -t "$HOST_A" -n ip link set eth1 up
		nsenter -t "$HOST_B" -n ip link set eth1 up
		# C: a bridge with one leg to each host, the clients' LAN.
		nsenter -t "$CLIENT_NS" -n ip link set lo up
		nsenter -t "$CLIENT_NS" -n ip link add br0 type bridge
		nsenter -t "$CLIENT_NS" -n ip addr add 10.231.0.65/26 dev br0
		nsenter -t "$CLIENT_NS" -n ip link set br0 up
		local h ip leg
		for h in A B; do
			[[ $h == A ]] && { u=$HOST_A ip=10.231.0.66 leg=legA; } || { u=$HOST_B ip=10.231.0.67 leg=legB; }
			nsenter -t "$CLIENT_NS" -n ip link add "$leg" type veth peer name eth0 netns "$u"
			nsenter -t "$CLIENT_NS" -n ip link set "$leg" master br0 up
			nsenter -t "$u" -n ip addr add "$ip/26" dev eth0
			nsenter -t "$u" -n ip link set eth0 up
		done
	} >>"$S/net.log" 2>&1 || fail "network setup failed: $(cat "$S/net.log")"
	# Workload PIDs in A start above 300: B's own helpers (nc, python3, minicr)
	# get low PIDs and never hold one the restored tree needs.
	in_host "$HOST_A" sh -c 'echo 300 >/proc/sys/kernel/ns_last_pid' || fail "cannot set A's ns_last_pid"
	say "hosts: A (PID 1 = $HOST_A here), B ($HOST_B), client netns $CLIENT_NS; veth A-B 10.231.0.1-2"
}

# move_service: the service address 10.231.0.100 from A's eth0 to B's (as a
# floating IP would move); the client forgets A's MAC for it.
SERVICE_IP=10.231.0.100
service_on() {
	nsenter -t "$1" -n ip addr add "$SERVICE_IP/26" dev eth0
}
move_service() {
	nsenter -t "$HOST_A" -n ip addr del "$SERVICE_IP/26" dev eth0 || return 1
	nsenter -t "$HOST_B" -n ip addr add "$SERVICE_IP/26" dev eth0 || return 1
	nsenter -t "$CLIENT_NS" -n ip neigh flush dev br0 || true
}
# on_client CMD...: run CMD in the client's network namespace
on_client() { nsenter -t "$CLIENT_NS" -n -- "$@"; }

# flavor_spawn CMD...: start the workload (stdio: /dev/null in, $S/wl.log
# out). Sets ROOT (PID here) and DUMP_PID (PID for minicr dump on src).
flavor_spawn() {
	local s
	case $FLAVOR in
	host)
		SPAWN_OUT=$S/wl.log spawn_clean "$@"
		ROOT=$SPAWN_PID
		DUMP_PID=$ROOT
		;;
	pidns)
		# No --kill-child: it would be the workload's parent-death
		# signal, recorded and restored (the restored root would die
		# with minicr). The cleanup kills the tree by PID.
		SPAWN_OUT=$S/wl.log spawn_clean unshare --pid --fork --mount-proc -- "$@"
		ROOT=$(child_of "$SPAWN_PID") || fail "the workload's namespace did not start"
		DUMP_PID=$ROOT
		;;
	migrate)
		# nsenter forks into A's PID namespace; setsid: a session of its
		# own, as a daemon started on that host would have.
		SPAWN_OUT=$S/wl.log spawn_clean nsenter -t "$HOST_A" -p -m -n -u -- setsid "$@"
		s=$SPAWN_PID
		ROOT=$(child_of "$s") || fail "the workload did not start in host A"
		DUMP_PID=$(ns_pid "$ROOT")
		;;
	esac
	disown "$SPAWN_PID" 2>/dev/null || true
	say "workload started: PID $ROOT here, $DUMP_PID for minicr dump ($*)"
}

# move_images: the images from SRC_IMG to DST_IMG. migrate: the stream is
# already on its way (stream_dump); wait until B holds all of it.
move_images() {
	case $FLAVOR in
	host | pidns)
		rm -rf "$DST_IMG"
		mv "$SRC_IMG" "$DST_IMG"
		;;
	migrate)
		wait_until 30 test -s "$S/stream.held" ||
			fail "B did not receive the whole stream: $(cat "$S/recv.log")"
		say "images streamed A -> B: $(cat "$S/stream.held") bytes held on B"
		;;
	esac
}

# stream_dump [ARGS...]: migrate's cr_dump. B listens with nc and holds
# what comes in memory (the restore may only start once the scenario's
# before_restore has run), A runs `minicr dump --stream ARGS DUMP_PID | nc`.
STREAM_PORT=7070
stream_dump() {
	local hold='import os, sys
data = sys.stdin.buffer.read()
# The byte count, then the bytes to whoever opens the fifo (the restore).
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(len(data)))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
with open(sys.argv[1], "wb") as f:
    f.write(data)'
	rm -f "$S/stream.fifo" "$S/stream.held"
	mkfifo "$S/stream.fifo"
	in_host "$HOST_B" bash -c 'set -o pipefail; nc -l -d 10.231.0.2 "$1" | python3 -c "$2" "$3" "$4"' \
		recv "$STREAM_PORT" "$hold" "$S/stream.fifo" "$S/stream.held" >"$S/recv.log" 2>&1 &
	STREAM_RECV=$!
	wait_until 5 in_host "$HOST_B" sh -c "ss -Hltn 'sport = :$STREAM_PORT' | grep -q ." ||
		fail "the receiver on B does not listen: $(cat "$S/recv.log")"
	in_host "$HOST_A" bash -c 'set -o pipefail; "$1" dump --stream "${@:4}" "$2" | nc -N -w 10 10.231.0.2 "$3"' \
		send "$MINICR" "$DUMP_PID" "$STREAM_PORT" "$@" >"$S/dump.log" 2>&1
}

# stream_restore [ARGS...]: migrate's cr_restore: `minicr restore --stream
# -d` on B, fed from what B holds; prints the root PID as B sees it. Then
# stream_done (not in a subshell): the receiver has handed it all over.
stream_restore() {
	in_host "$HOST_B" "$MINICR" restore --stream -d "$@" <"$S/stream.fifo"
}
stream_done() {
	wait "$STREAM_RECV" || fail "the receiver on B failed: $(cat "$S/recv.log")"
}

# outer_pid NSPID: the PID here of the task the destination calls NSPID
# (for pidns, minicr already prints the outer PID).
outer_pid() {
	local want=$1 d ns
	if [[ $FLAVOR != migrate ]]; then
		echo "$want"
		return
	fi
	ns=$(readlink "/proc/$HOST_B/ns/pid")
	for d in /proc/[0-9]*; do
		[[ "$(readlink "$d/ns/pid" 2>/dev/null)" == "$ns" ]] || continue
		if [[ "$(awk '/^NSpid:/ { print $NF }' "$d/status" 2>/dev/null)" == "$want" ]]; then
			echo "${d#/proc/}"
			return
		fi
	done
	return 1
}
