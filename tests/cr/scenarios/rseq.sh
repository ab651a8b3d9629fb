# A thread frozen inside an rseq critical section (minicr-test-rseq) is
# aborted to its handler by the dump, as the kernel would have done on its
# next return to user space: after the restore it goes on counting aborts.
# Without that abort it would spin inside the section for ever and the
# count would stand still.
FLAVORS="host pidns"
WORKLOAD=("$MINICR_BUILD_DIR/tests/workloads/minicr-test-rseq" "$S/count")

count() { local c; c=$(tr -d ' \n' <"$S/count" 2>/dev/null); echo "${c:-0}"; }
ready() { (($(count) > 10)); }
check_after() {
	local a b
	sleep 0.2
	a=$(count)
	sleep 0.5
	b=$(count)
	((b > a)) || { echo "the aborts stand still at $a after the restore" >&2; return 1; }
	say "the thread frozen in its critical section went on: aborts $a -> $b"
}
