# minicr dump refuses bad input with a clear message and loses nothing:
# a PID that does not exist; an images directory that is read-only or
# full (the tree keeps running, untraced, no inventory.img); a tree killed
# while it is being dumped (minicr fails cleanly, leaves no complete set).
FLAVORS="host"

scenario_main() {
	local nopid=99999 i rc big
	[[ ! -e /proc/$nopid ]] || fail "PID $nopid exists in a fresh namespace?"
	expect_fail "dump of PID $nopid" "$nopid.*(no such process|No such process)" "$MINICR" dump -D "$S/none" "$nopid"
	[[ ! -e "$S/none/inventory.img" ]] || fail "an inventory for a missing PID"
	ok "no such PID: refused"

	small_tree
	tree_shape "$ROOT" >"$S/intact"
	mkdir -p "$S/ro" "$S/full"
	mount -t tmpfs -o ro,size=1m minicr-ro "$S/ro"
	expect_fail "dump into a read-only directory" "Read-only file system" "$MINICR" dump -D "$S/ro/img" "$DUMP_PID"
	tree_intact "read-only directory"
	ok "read-only directory: clear error, tree intact"
	mount -t tmpfs -o size=64k minicr-full "$S/full"
	expect_fail "dump into a full directory" "No space left on device" "$MINICR" dump -D "$S/full/img" "$DUMP_PID"
	tree_intact "full directory"
	[[ ! -e "$S/full/img/inventory.img" ]] || fail "full directory: inventory.img exists"
	ok "full directory: clear error naming the errno, tree intact, no inventory.img"
	kill_tree "$ROOT"
	wait_gone "${TREE[@]}"

	# A tree that dies while minicr dumps it: killed as soon as minicr has
	# begun writing its 300 MiB of pages (retried if the dump still wins).
	for i in 1 2 3 4 5 6; do
		spawn_clean /usr/bin/python3 -c 'import time; b = bytearray(b"x") * (300 << 20); open("'"$S"'/big.ready", "w").close(); time.sleep(1000)'
		big=$SPAWN_PID
		STARTED+=("$big")
		wait_until 20 test -e "$S/big.ready" || fail "python3 did not allocate its memory"
		rm -f "$S/big.ready"
		rm -rf "$S/mid"
		rc=0
		"$MINICR" dump -D "$S/mid" "$big" >"$S/out" 2>"$S/err" &
		local m=$!
		wait_until 20 eval 'compgen -G "$S/mid/pages-*.img.tmp" >/dev/null || ! kill -0 $m 2>/dev/null'
		kill -KILL "$big" 2>/dev/null || true
		wait "$m" || rc=$?
		wait_gone "$big" || fail "python3 not gone"
		if ((rc == 0)); then
			say "try $i: the dump finished before the kill; again"
			continue
		fi
		sed 's/^/    | /' "$S/err"
		((rc == 1)) || fail "tree killed mid-dump: minicr exited $rc, want 1"
		[[ -s "$S/err" ]] || fail "tree killed mid-dump: no message"
		[[ ! -e "$S/mid/inventory.img" ]] || fail "tree killed mid-dump: inventory.img exists"
		ok "tree killed while being dumped (try $i): minicr fails with a message, no inventory.img"
		return 0
	done
	fail "the dump always won the race: could not kill the tree mid-dump"
}
