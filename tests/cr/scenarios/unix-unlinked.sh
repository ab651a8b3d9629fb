# Unix sockets bound to a path whose socket file was unlinked afterwards
# (bind, listen, unlink): a stream listener and a bound datagram socket.
# Restore binds the name and unlinks the file again, so the files stay
# gone, getsockname() still names the paths, the listener listens, and a
# client's connect() or sendto() to the path fails with ENOENT as before.
# Before the fix, restore left socket files that were not there.
FLAVORS="host pidns migrate"
WORKLOAD=(/usr/bin/python3 "$CR_DIR/../workloads/unix_unlinked.py" "$S")

ready() { [[ -e $S/ready ]]; }
check_after() {
	local want="files False False
names True True
listening 1
connect ENOENT
sendto ENOENT"
	touch "$S/verify"
	wait_until 10 test -e "$S/result" || { echo "no result" >&2; cat "$S/wl.log" >&2; return 1; }
	sed 's/^/    /' "$S/result"
	[[ "$(cat "$S/result")" == "$want" ]] || { diff <(echo "$want") "$S/result" >&2; return 1; }
	say "unlinked socket files stay unlinked, the names kept"
}
