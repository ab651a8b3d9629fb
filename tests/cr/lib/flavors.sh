# tests/cr/lib/flavors.sh: where a workload runs, is dumped and restored.
#
#   host     the workload is a child of the scenario's shell; dumped and
#            restored in the scenario's PID namespace (same PIDs).
#   pidns    the workload is the init of a PID namespace of its own
#            (unshare --pid --mount-proc); restored with --pidns into a new
#            one (same PIDs inside, new ones outside).
#   migrate  two simulated hosts A and B, each its own PID, mount, UTS and
#            network namespace (PID 1: sleep), with its own tmpfs "disk" at
#            $S/disk for the images; joined by a veth pair (A 10.231.0.1,
#            B 10.231.0.2). A third network namespace C (the client) has a
#            bridge with a leg to each host (C 10.231.0.65, A .66, B .67).
#            The workload starts in A (own session), minicr dumps it in A,
#            the images go to B as a tar stream through nc over the veth,
#            minicr restores it in B with the same PIDs. The service
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
#   move_images              SRC_IMG -> DST_IMG (mv, or tar|nc A -> B)
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
		SRC_IMG=$S/disk/img
		DST_IMG=$S/disk/img
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
	# Workload PIDs in A start above 300: B's own helpers (nc, tar, minicr)
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

# move_images: the images from SRC_IMG to DST_IMG. migrate: a tar stream
# from A to B through nc over the veth; the file list and checksums must
# match on both sides.
move_images() {
	case $FLAVOR in
	host | pidns)
		rm -rf "$DST_IMG"
		mv "$SRC_IMG" "$DST_IMG"
		;;
	migrate)
		local port=7070 r
		in_host "$HOST_A" sh -c 'cd "$1" && sha256sum * | sort' sum "$SRC_IMG" >"$S/sums.A" ||
			fail "cannot checksum the images on A"
		in_host "$HOST_B" bash -c 'rm -rf "$1" && mkdir -p "$1" && nc -l -d 10.231.0.2 "$2" | tar -x -C "$1"' \
			recv "$DST_IMG" "$port" >"$S/recv.log" 2>&1 &
		r=$!
		wait_until 5 in_host "$HOST_B" sh -c "ss -Hltn 'sport = :$port' | grep -q ." ||
			fail "the receiver on B does not listen: $(cat "$S/recv.log")"
		in_host "$HOST_A" sh -c 'tar -c -C "$1" . | nc -N -w 10 10.231.0.2 "$2"' send "$SRC_IMG" "$port" ||
			fail "sending the images from A failed"
		wait "$r" || fail "receiving the images on B failed: $(cat "$S/recv.log")"
		in_host "$HOST_B" sh -c 'cd "$1" && sha256sum * | sort' sum "$DST_IMG" >"$S/sums.B" ||
			fail "cannot checksum the images on B"
		diff -u "$S/sums.A" "$S/sums.B" >&2 || fail "the images differ after the transfer"
		# B's disk is not A's: the copy on A goes, as on a dead host.
		in_host "$HOST_A" rm -rf "$SRC_IMG"
		say "images moved A -> B over tar|nc ($(wc -l <"$S/sums.B") files, checksums equal)"
		;;
	esac
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
