# minicr-test-victim --scenario memory (tests/workloads/victim.c):
#   256 MiB of patterned anonymous memory with a 16 MiB untouched hole
#   (checksum), a MAP_PRIVATE file mapping with modified pages, MAP_SHARED
#   anonymous memory shared with a child (the child writes after restore,
#   the parent must see it, and back), a PROT_READ region, a PROT_NONE
#   region, a PROT_NONE region with data, a heap grown by 8 MiB (brk and
#   contents)
VICTIM=memory
FLAVORS="host pidns"
source "$CR_DIR/lib/victim.sh"
