#!/usr/bin/env bash
# The committed reference image set (images/ref/, made by
# tools/make-ref-images) still decodes to exactly the committed JSON, show
# and info output, and encoding that JSON gives back byte-identical images.
# Damaged copies are rejected with a message naming the file.
source "$(dirname "$0")/_common.sh"
enter_pidns "$@"
setup_work

REF=$ROOT/images/ref
EXP=$REF/expected
[[ -d "$REF" && -d "$EXP" ]] || fail "no reference set in $REF (run tools/make-ref-images)"
shopt -s nullglob
imgs=("$REF"/*.img)
((${#imgs[@]} >= 3)) || fail "only ${#imgs[@]} images in $REF"

for img in "${imgs[@]}"; do
	f=$(basename "$img")
	json=$EXP/${f%.img}.json
	[[ -f "$json" ]] || fail "$f: no expected/${f%.img}.json"
	"$MINICR_DECODE" decode "$img" --pretty >"$WORK/$f.json" || fail "decode $f exited $?"
	diff -u "$json" "$WORK/$f.json" >&2 || fail "decode $f --pretty differs from expected (diff above)"
	if grep -q '"raw_bytes"' "$json"; then
		# Raw data (page contents): decode only summarises it, and encode
		# must refuse instead of writing something else.
		rc=0
		"$MINICR_DECODE" encode "$json" -o "$WORK/$f" 2>"$WORK/err" || rc=$?
		((rc == 1)) || fail "encode of raw ${f%.img}.json: exit $rc, want 1"
		[[ ! -e "$WORK/$f" ]] || fail "encode of raw ${f%.img}.json wrote $f"
		grep -q "${f%.img}.json" "$WORK/err" || fail "encode of raw ${f%.img}.json: message does not name the file"
		[[ "$(json_get "$json" raw_bytes)" == $(($(stat -c %s "$img") - 4)) ]] ||
			fail "$f: raw_bytes is not the file size less the 4-byte magic"
		ok "$f: raw image, decode == expected, encode refuses"
		continue
	fi
	"$MINICR_DECODE" encode "$json" -o "$WORK/$f" || fail "encode ${f%.img}.json exited $?"
	cmp "$img" "$WORK/$f" || fail "encode of ${f%.img}.json is not byte-identical to $f"
	# stdin as input, and the compact form, too.
	"$MINICR_DECODE" decode "$img" >"$WORK/$f.compact.json" || fail "decode $f exited $?"
	"$MINICR_DECODE" encode - -o "$WORK/$f.2" <"$WORK/$f.compact.json" || fail "encode - ($f) exited $?"
	cmp "$img" "$WORK/$f.2" || fail "encode of compact JSON from stdin is not byte-identical to $f"
	ok "$f: decode == expected, encode gives back the same bytes"
done
for json in "$EXP"/*.json; do
	[[ -f "$REF/$(basename "$json" .json).img" ]] || fail "expected/$(basename "$json") has no image"
done

"$MINICR_DECODE" show "$REF" >"$WORK/show.txt" || fail "show exited $?"
diff -u "$EXP/show.txt" "$WORK/show.txt" >&2 || fail "show differs from expected/show.txt (diff above)"
ok "show == expected/show.txt"

: >"$WORK/info.txt"
for img in "${imgs[@]}"; do
	f=$(basename "$img")
	printf '%s: %s\n' "$f" "$("$MINICR_DECODE" info "$img")" >>"$WORK/info.txt"
done
diff -u "$EXP/info.txt" "$WORK/info.txt" >&2 || fail "info differs from expected/info.txt (diff above)"
ok "info == expected/info.txt"

# Damaged images: rejected with exit 1 and a message naming the file.
p=$REF/pstree.img
size=$(stat -c %s "$p")
head -c $((size - 1)) "$p" >"$WORK/truncated.img"
rc=0
"$MINICR_DECODE" decode "$WORK/truncated.img" >/dev/null 2>"$WORK/err" || rc=$?
cat "$WORK/err"
((rc == 1)) || fail "truncated pstree.img: exit $rc, want 1"
grep -q truncated.img "$WORK/err" || fail "truncated pstree.img: message does not name the file"
printf 'XXXX' | cat - <(tail -c +5 "$p") >"$WORK/badmagic.img"
rc=0
"$MINICR_DECODE" decode "$WORK/badmagic.img" >/dev/null 2>"$WORK/err" || rc=$?
cat "$WORK/err"
((rc == 1)) || fail "bad magic: exit $rc, want 1"
grep -q badmagic.img "$WORK/err" || fail "bad magic: message does not name the file"
ok "truncated and bad-magic images are rejected"
say "PASS"
