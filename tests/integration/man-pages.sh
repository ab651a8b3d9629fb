#!/usr/bin/env bash
# The manuals: meson builds minicr.1 and minicr-decode.1 from doc/*.scd
# (scdoc) and installs them into man1; man renders them; every option the
# code accepts (the getopt tables of src/main.c, the option strings of
# tools/decode.c) is in its command's section of its page, so a new option
# cannot be left out of the manual.
source "$(dirname "$0")/_common.sh"
source "$(dirname "$0")/_options.sh"
enter_pidns "$@"
setup_work

B=$MINICR_BUILD_DIR
[[ -f "$B/build.ninja" ]] || fail "no build in $B"
ninja -C "$B" doc/minicr.1 doc/minicr-decode.1 >"$WORK/build.log" 2>&1 ||
	{ cat "$WORK/build.log" >&2; fail "the manuals do not build (scdoc missing? see tools/install-deps)"; }
meson install -C "$B" --no-rebuild --tags man --destdir "$WORK/inst" >"$WORK/inst.log" 2>&1 ||
	{ cat "$WORK/inst.log" >&2; fail "meson install --tags man failed"; }
for p in minicr minicr-decode; do
	f=$(find "$WORK/inst" -path "*/man1/$p.1") && [[ -n "$f" ]] ||
		fail "meson install put no man1/$p.1 (installed: $(cd "$WORK/inst" && find . -type f))"
	cmp -s "$f" "$B/doc/$p.1" || fail "the installed $p.1 is not the built one"
	# Wide and in ASCII: no option broken across lines or spelled with
	# Unicode hyphens.
	LC_ALL=C MANWIDTH=250 man -l "$B/doc/$p.1" 2>"$WORK/$p.err" | col -b >"$WORK/$p.txt"
	[[ -s "$WORK/$p.txt" && ! -s "$WORK/$p.err" ]] ||
		fail "man -l $p.1: $(cat "$WORK/$p.err")"
	grep -q "^NAME" "$WORK/$p.txt" && grep -q "^EXIT STATUS" "$WORK/$p.txt" ||
		fail "$p.1 lacks NAME or EXIT STATUS"
done
ok "minicr.1 and minicr-decode.1 built, installed into man1, rendered by man"

# items PAGE-TEXT COMMAND: the option items ("       -x, --long ARG", a
# line of its own) of that command's subsection of COMMANDS (a heading
# "   COMMAND ..." up to the next heading): an option only in a synopsis
# is not described.
items() {
	awk -v c="$2" '
	/^[A-Z]/ || /^   [^ ]/ { on = ($0 ~ "^   " c "( |$)"); if (on) found = 1; next }
	on && /^       -/
	END { if (!found) print "NO SECTION" }' "$1"
}

missing=0
check_page() {   # check_page PAGE SOURCE
	local page=$1 src=$2 c o n=0
	while read -r c o; do
		if [[ $c == main ]]; then
			cp "$WORK/$page.txt" "$WORK/items"   # before the command: anywhere
		else
			items "$WORK/$page.txt" "$c" >"$WORK/items"
		fi
		if grep -qx "NO SECTION" "$WORK/items"; then
			say "MISSING: $page.1 has no section for command '$c' ($src; doc/$page.1.scd)"
			missing=$((missing + 1))
		elif ! mentions "$WORK/items" "$o"; then
			say "MISSING: option $o of '$c' ($src) is not described in the '$c' section of $page.1 (doc/$page.1.scd)"
			missing=$((missing + 1))
		fi
		n=$((n + 1))
	done < <(cli_options "$ROOT/$src")
	((n > 0)) || fail "no options read from $src"
	say "$page.1: $n options of $src checked"
}
check_page minicr src/main.c
check_page minicr-decode tools/decode.c
((missing == 0)) || fail "$missing options missing from the manuals (listed above)"
ok "every option the code accepts is in its command's section of the manual"
