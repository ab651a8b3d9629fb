# A tree in test cgroups (root in A, a threaded child and a zombie in A/B,
# with pids.max, memory and cpu settings on them) comes back in the same
# cgroups, which restore makes again, settings included, since the test
# removes them after the dump (tests/cr/lib/cgroups.sh).
FLAVORS="host pidns"
source "$CR_DIR/lib/cgroups.sh"
