# Unix sockets bound to a path whose socket file was unlinked afterwards
# (bind, listen, unlink): a stream listener and a bound datagram socket.
# Restore binds the name and unlinks the file again, so the files stay
# gone, getsockname() still names the paths, the listener listens, and a
# client's connect() or sendto() to the path fails with ENOENT as before.
# Before the fix, restore left socket files that were not there. A file
# put at the unlinked name before a restore is refused and left alone.
FLAVORS="host pidns migrate"
WORKLOAD=(/usr/bin/python3 "$CR_DIR/../workloads/unix_unlinked.py" "$S")

ready() { [[ -e $S/ready ]]; }
# A file put at the unlinked name before the restore is refused, not
# removed: restore -d fails naming it, and the file is left alone.
check_before() {
	local o=$S/taken
	mkdir -p "$o"
	SPAWN_OUT=$S/taken.log spawn_clean /usr/bin/python3 "$CR_DIR/../workloads/unix_unlinked.py" "$o"
	STARTED+=("$SPAWN_PID")
	wait_until 10 test -e "$o/ready" || { echo "the second workload did not start" >&2; return 1; }
	"$MINICR" dump -D "$S/img-taken" "$SPAWN_PID" || { echo "dump of the second workload failed" >&2; return 1; }
	wait_until 10 eval '! alive "$SPAWN_PID"' || { echo "the dumped workload still runs" >&2; return 1; }
	echo mine >"$o/listen.sock"
	expect_fail "a file at an unlinked socket name" \
		"its socket file $o/listen.sock was unlinked at dump, and a file is at that path now" \
		"$MINICR" restore -d "$S/img-taken"
	[[ "$(cat "$o/listen.sock")" == mine ]] || { echo "the file at the name was touched" >&2; return 1; }
}
check_after() {
	local want="files False False
names True True
listening 1
connect ENOENT
sendto ENOENT"
	workload_result "$want" || return 1
	say "unlinked socket files stay unlinked, the names kept"
}
