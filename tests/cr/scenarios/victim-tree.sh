# minicr-test-victim --scenario tree: 40 tasks, depth 3, fanout 3; each
# checks its IDs and the children /proc lists for it.
VICTIM=tree
FLAVORS="host pidns"
source "$CR_DIR/lib/victim.sh"
