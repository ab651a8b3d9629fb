# One memfd open and mapped MAP_SHARED by a parent, inherited by its child
# which maps it again (minicr-test-memshare, tests/workloads/mem_share.c):
# after restore the fds and the three mappings are one object again, a
# write through any of them is seen through all the others.
FLAVORS="host pidns"
WORKLOAD=("$MINICR_BUILD_DIR/tests/workloads/minicr-test-memshare" "$S/wl")

flavor_setup_hook() { mkdir -p "$S/wl"; }
ready() { [[ -e "$S/wl/ready.parent" && -e "$S/wl/ready.child" ]]; }
check_after() {
	touch "$S/wl/check"
	wait_until 15 test -e "$S/wl/result" || { echo "no result from the workload" >&2; return 1; }
	[[ "$(cat "$S/wl/result")" == OK ]] || { cat "$S/wl/result" >&2; return 1; }
	say "parent and child share the memfd through fds and mappings"
}
