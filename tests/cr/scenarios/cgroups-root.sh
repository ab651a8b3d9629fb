# The tree of cgroups.sh restored with --cgroup-root /$CG/R: in every
# hierarchy the tree's cgroups go below R instead of their recorded common
# ancestor (A in the test's hierarchies), with A's settings on R.
FLAVORS="host pidns"
source "$CR_DIR/lib/cgroups.sh"
CG_NEW_ROOT=/$CG/R
RESTORE_ARGS=(--cgroup-root "$CG_NEW_ROOT")
