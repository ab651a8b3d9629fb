# Deleted files, memfds and O_TMPFILE files keep their holes
# (minicr-test-fattrs sparse): 1 GiB with 4 KiB of data costs about 4 KiB
# in ghost-ID.img and comes back with its size, still sparse, with its
# data, mode, owner and mtime (the workload checks all that every 50 ms).
FLAVORS="host pidns"
WORKLOAD=("$MINICR_BUILD_DIR/tests/workloads/minicr-test-fattrs" sparse "$S")

source "$CR_DIR/lib/fattrs.sh"

fattrs_check_after() {
	local kib
	kib=$(du -sk "$DST_IMG" | cut -f1)
	((kib < 4096)) || fail "the images take $kib KiB for 12 KiB of file data"
	say "images: $kib KiB in all, for sparse files of 1 GiB, 1 GiB and 3 MiB"
}
