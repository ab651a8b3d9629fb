# A pre-forking server (minicr-test-memcow, tests/workloads/mem_cow.c): a
# parent filled 64 MiB of private anonymous memory, then forked 8 children
# that still share it copy-on-write, each with one page of its own. The dump
# records, per child, the pages still shared with its parent (cow_parent
# of mm.proto, from pagemap PFNs: at least 63 MiB per child here). After
# restore the contents are right, a child's write stays its own, and the
# tree's total Pss (smaps_rollup) is at most 1.5 times what it was (the
# pages are shared again: without that, about 9 times).
FLAVORS="host pidns"
WORKLOAD=("$MINICR_BUILD_DIR/tests/workloads/minicr-test-memcow" "$S/wl")
READY_TIMEOUT=60

flavor_setup_hook() { mkdir -p "$S/wl"; }
ready() { local k; [[ -e "$S/wl/ready.p" ]] && for k in 0 1 2 3 4 5 6 7; do [[ -e "$S/wl/ready.$k" ]] || return 1; done; }
pss_kb() {   # pss_kb ROOT: the tree's summed Pss in kB
	local p sum=0 v
	for p in $(tree_pids "$1"); do
		v=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null) || v=0
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}
check_before() { pss_kb "$ROOT" >"$S/pss.before"; }
check_after() {
	local before after m kids=0
	before=$(cat "$S/pss.before")
	after=$(pss_kb "$ROOT")
	# Every child's image says which pages it still shared with its parent.
	for m in "$DST_IMG"/mm-*.img; do
		"$MINICR_DECODE" decode "$m" >"$S/mm.json" || return 1
		python3 - "$S/mm.json" <<'PY' && kids=$((kids + 1))
import json, sys
vmas = json.load(open(sys.argv[1]))["entries"][0]["vmas"]
shared = 0
for v in vmas:
    r = v.get("cow_parent", [])
    shared += sum(int(r[i + 1]) - int(r[i]) for i in range(0, len(r), 2))
sys.exit(0 if shared >= 63 << 20 else 1)
PY
	done
	((kids == 8)) || { echo "$kids mm images record >= 63 MiB shared with the parent, want 8" >&2; return 1; }
	touch "$S/wl/check"
	wait_until 60 test -e "$S/wl/result" || { echo "no result from the workload" >&2; return 1; }
	[[ "$(cat "$S/wl/result")" == OK ]] || { cat "$S/wl/result" >&2; return 1; }
	say "contents right, children's writes private; 8 children recorded as sharing >= 63 MiB; tree Pss ${before} kB before, ${after} kB after restore"
	echo "$before $after" >"$S/pss"
	if ((after > before * 3 / 2)); then
		echo "the restored tree uses ${after} kB (Pss), ${before} kB before: copy-on-write sharing lost" >&2
		return 1
	fi
}
