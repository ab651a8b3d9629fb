# Per-VMA memory state (minicr-test-memflags, tests/workloads/mem_flags.c):
# madvise state (random, sequential, dontfork, wipeonfork, hugepage,
# nohugepage, mergeable, dontdump), mlock and mlock2(MLOCK_ONFAULT), mseal,
# and file mappings whose protection changed after mmap (a read-only VMA of
# a MAP_SHARED rw mapping, split VMAs): smaps shows the same VMAs, perms,
# Rss, Locked and VmFlags after restore, the contents are back, a sealed VMA
# still refuses mprotect, the shared file mapping can be made writable
# again and a fork still honours wipe-on-fork and dont-fork.
FLAVORS="host pidns"
WORKLOAD=("$MINICR_BUILD_DIR/tests/workloads/minicr-test-memflags" "$S/wl")

flavor_setup_hook() { mkdir -p "$S/wl"; }
ready() { [[ -e "$S/wl/ready" ]]; }
check_after() {
	touch "$S/wl/check"
	wait_until 10 test -e "$S/wl/result" || { echo "no result from the workload" >&2; return 1; }
	if [[ "$(cat "$S/wl/result")" != OK ]]; then
		cat "$S/wl/result" >&2
		diff -u "$S/wl/before" "$S/wl/after" >&2 || true
		return 1
	fi
	say "$(wc -l <"$S/wl/before") VMAs as they were: $(cut -d' ' -f2- "$S/wl/before" | tr '\n' '|')"
}
