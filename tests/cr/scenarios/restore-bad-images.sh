# minicr restore refuses damaged images with a message naming the file,
# and creates no task: truncated images, a flipped byte (in an entry's
# length, or in page contents no parser looks at), a wrong magic, a missing
# file, a file foreign to the set, a truncated stats image restore never
# reads, a format version from the future: inventory.img's checksums catch
# each before anything is created. minicr-decode verify names the same.
# host: a PID in the middle of the tree is taken (both PID methods).
# The intact images still restore afterwards.
FLAVORS="host pidns"

# damage NAME CMD...: a copy of the images as $S/bad-NAME, CMD run in it
damage() {
	local name=$1
	shift
	rm -rf "$S/bad-$name"
	cp -a "$DST_IMG" "$S/bad-$name"
	(cd "$S/bad-$name" && "$@")
}

# refused WHAT DIR PATTERN [RESTORE-ARGS...]
refused() {
	local what=$1 dir=$2 pat=$3 p
	shift 3
	procs "$S/procs.before"
	expect_fail "$what" "$pat" "$MINICR" restore -d $(restore_args) "$@" "$dir"
	[[ ! -s "$S/out" ]] || fail "$what: printed a root PID"
	no_new_tasks "$what" "$S/procs.before"
	ok "$what: refused, no task created"
}

# verify_says DIR PATTERN: minicr-decode verify fails on DIR with a line
# matching PATTERN and a FAILED verdict
verify_says() {
	if "$MINICR_DECODE" verify "$1" >"$S/verify.out" 2>&1; then
		cat "$S/verify.out" >&2
		fail "minicr-decode verify passes $1"
	fi
	grep -q "$2" "$S/verify.out" && grep -q "^FAILED: " "$S/verify.out" ||
		{ cat "$S/verify.out" >&2; fail "minicr-decode verify $1: no line $2"; }
}

flip() {   # flip FILE OFFSET
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ 0x40)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

scenario_main() {
	local c sz
	small_tree
	tree_shape "$ROOT" >"$S/intact"
	cr_dump
	wait_gone "${TREE[@]}"
	move_images
	c=core-${TREE[1]}.img
	sz=$(stat -c %s "$DST_IMG/$c")
	damage trunc truncate -s $((sz / 2)) "$c"
	refused "$c truncated to half" "$S/bad-trunc" "$c"
	damage trunc1 truncate -s 2 "$c"
	refused "$c truncated to 2 bytes" "$S/bad-trunc1" "$c"
	damage trunc2 truncate -s 0 pstree.img
	refused "pstree.img truncated to 0 bytes" "$S/bad-trunc2" "pstree\.img"
	damage flip flip "$c" 5
	refused "$c with a flipped byte in an entry length" "$S/bad-flip" "$c"
	damage magic flip "$c" 0
	refused "$c with a wrong magic" "$S/bad-magic" "$c.*magic|magic.*$c"
	damage missing rm "$c"
	refused "$c missing" "$S/bad-missing" "$c"
	damage tpages truncate -s $(($(stat -c %s "$DST_IMG/pages-${c#core-}") / 2)) "pages-${c#core-}"
	refused "pages-${c#core-} truncated to half (found after tasks were created)" "$S/bad-tpages" "pages-${c#core-}"
	damage nopages rm "pages-${c#core-}"
	refused "pages-${c#core-} missing" "$S/bad-nopages" "pages-${c#core-}"
	damage fpages flip "pages-${c#core-}" 4100
	refused "pages-${c#core-} with a flipped byte in a page" "$S/bad-fpages" \
		"pages-${c#core-}: xxh3 .* \(content changed\)"
	damage tstats truncate -s -3 stats-dump.img
	refused "stats-dump.img cut by 3 bytes" "$S/bad-tstats" "stats-dump\.img: .* \(truncated"
	damage stray cp "$c" core-999999.img
	refused "a stray core-999999.img" "$S/bad-stray" "core-999999\.img: not listed"
	verify_says "$S/bad-fpages" "^BAD  pages-${c#core-}: "
	verify_says "$S/bad-tstats" "^BAD  stats-dump\.img: "
	"$MINICR_DECODE" verify "$DST_IMG" >"$S/verify.out" ||
		{ cat "$S/verify.out" >&2; fail "minicr-decode verify refuses the intact set"; }
	grep -q "^verified: all [0-9]* files" "$S/verify.out" || fail "verify: no verdict for the intact set"
	ok "minicr-decode verify: the intact set verified, the damaged files named"
	damage future sh -c '"$1" decode inventory.img | python3 -c "
import json, sys
d = json.load(sys.stdin)
def bump(o):
    if isinstance(o, dict):
        for k in o:
            if k == \"img_version\": o[k] = 99
            else: bump(o[k])
    elif isinstance(o, list):
        for v in o: bump(v)
bump(d); json.dump(d, sys.stdout)" >inv.json && "$1" encode inv.json -o inventory.img && rm inv.json' x "$MINICR_DECODE"
	refused "inventory.img of format version 99" "$S/bad-future" "version 99.*newer"
	if [[ $FLAVOR == host ]]; then
		# A PID in the middle of the tree is taken (with each PID method):
		# `tail` gets it through ns_last_pid.
		local holder m kid=${TREE[1]}
		take_pid "$kid"
		holder=$HOLDER
		local -a tree=("${TREE[@]}")
		TREE=("${TREE[0]}" "${TREE[@]:2}")   # PID $kid is tail's now
		for m in clone3 ns_last_pid; do
			refused "PID $kid of a child taken ($m)" "$DST_IMG" "PID $kid.*'tail'" --pid-method=$m
		done
		TREE=("${tree[@]}")
		kill_pids "$holder"
		wait_gone "$holder"
	fi
	cr_restore
	tree_shape "$ROOT" >"$S/shape.now"
	diff -u "$S/intact" "$S/shape.now" >&2 || fail "the intact images restore another tree"
	ok "the intact images still restore the same tree"
}
