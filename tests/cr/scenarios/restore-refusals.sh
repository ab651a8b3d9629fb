# minicr restore refuses, with a message naming the cause, and creates no
# task: a PID the tree needs is taken (by `tail`; both PID methods); a file the tree maps
# (its binary) is gone, or changed since the dump; a file it has open is
# gone, or changed. The images restore once the cause is gone.
FLAVORS="host"

refused() {   # refused WHAT PATTERN
	procs "$S/procs.before"
	expect_fail "$1" "$2" "$MINICR" restore -d "${RARGS[@]}" "$DST_IMG"
	[[ ! -s "$S/out" ]] || fail "$1: printed a root PID"
	no_new_tasks "$1" "$S/procs.before"
	ok "$1: refused, no task created"
}

RARGS=()
scenario_main() {
	local holder m
	echo "data" >"$S/data"
	cp /bin/sleep "$S/mysleep"
	# fd 3 open on $S/data, the binary mapped from $S/mysleep
	flavor_spawn bash -c 'exec 3<"$1"; exec "$2" 1000' x "$S/data" "$S/mysleep"
	STARTED+=("$ROOT")
	wait_until 10 eval '[[ "$(cat /proc/$ROOT/comm)" == mysleep && -e /proc/$ROOT/fd/3 ]]' || fail "workload not up"
	TREE=("$ROOT")
	cr_dump
	wait_gone "$ROOT"
	move_images

	take_pid "$ROOT"
	holder=$HOLDER
	TREE=()
	for m in clone3 ns_last_pid; do
		RARGS=(--pid-method=$m)
		refused "PID $ROOT taken ($m)" "PID $ROOT.*'tail'"
	done
	RARGS=()
	kill_pids "$holder"
	wait_gone "$holder"
	TREE=("$ROOT")

	mv "$S/mysleep" "$S/mysleep.away"
	refused "the mapped binary is gone" "mysleep"
	mv "$S/mysleep.away" "$S/mysleep"
	touch -r "$S/mysleep" "$S/mtime.ref"
	touch -d '2001-02-03 04:05:06' "$S/mysleep"
	refused "the mapped binary changed" "mysleep.*chang"
	touch -r "$S/mtime.ref" "$S/mysleep"

	mv "$S/data" "$S/data.away"
	refused "the open file is gone" "$S/data"
	mv "$S/data.away" "$S/data"
	cp -p "$S/data" "$S/data.orig"
	echo "more" >>"$S/data"
	refused "the open file changed" "$S/data.*chang"
	cat "$S/data.orig" >"$S/data"
	touch -r "$S/data.orig" "$S/data"
	cr_restore
	[[ "$(cat /proc/$ROOT/comm)" == mysleep && "$(readlink /proc/$ROOT/fd/3)" == "$S/data" ]] ||
		fail "restored task is not mysleep with fd 3 on $S/data"
	ok "with the files back as they were, the images restore"
}
