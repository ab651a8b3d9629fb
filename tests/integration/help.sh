#!/usr/bin/env bash
# Per-command help: `minicr COMMAND --help` and `minicr-decode COMMAND
# --help` exit 0 and name every option of that command's getopt table
# (read from the code) and no option only another command has; `minicr
# --help` is the overview, naming the commands and none of their options.
source "$(dirname "$0")/_common.sh"
source "$(dirname "$0")/_options.sh"
enter_pidns "$@"
setup_work

cli_options "$ROOT/src/main.c" >"$WORK/minicr.opts"
cli_options "$ROOT/tools/decode.c" >"$WORK/decode.opts"
[[ -s "$WORK/minicr.opts" && -s "$WORK/decode.opts" ]] || fail "no options found in the code"

# check_help BIN OPTS-FILE COMMAND: COMMAND's help has its options only.
check_help() {
	local bin=$1 opts=$2 cmd=$3 c o
	"$bin" "$cmd" --help >"$WORK/help" 2>"$WORK/err" || fail "$(basename "$bin") $cmd --help failed"
	[[ ! -s "$WORK/err" ]] || fail "$(basename "$bin") $cmd --help wrote to stderr"
	grep -q "usage: $(basename "$bin") $cmd" "$WORK/help" || fail "$cmd --help: no usage line"
	while read -r c o; do
		[[ $c == main ]] && continue
		if [[ $c == "$cmd" ]]; then
			mentions "$WORK/help" "$o" || fail "$(basename "$bin") $cmd --help does not name $o"
		elif [[ ! " -h --help -v --verbose " == *" $o "* ]] && ! grep -q "^$cmd $o\$" "$opts"; then
			! mentions "$WORK/help" "$o" || fail "$(basename "$bin") $cmd --help names $o of $c"
		fi
	done <"$opts"
	ok "$(basename "$bin") $cmd --help: its options, no other command's"
}

for cmd in dump restore; do
	check_help "$MINICR" "$WORK/minicr.opts" "$cmd"
done
"$MINICR" check --help | grep -q "usage: minicr check" || fail "minicr check --help"
for cmd in decode encode show info; do
	check_help "$MINICR_DECODE" "$WORK/decode.opts" "$cmd"
done

"$MINICR" --help >"$WORK/help" || fail "minicr --help failed"
for cmd in dump restore check; do
	grep -Eq "^  $cmd " "$WORK/help" || fail "minicr --help does not list $cmd"
done
while read -r c o; do
	[[ $c == main || $o == --help || $o == --verbose ]] && continue
	! mentions "$WORK/help" "$o" || fail "minicr --help names $c's option $o"
done <"$WORK/minicr.opts"
ok "minicr --help: the commands, none of their options"

# A usage error shows that command's help on stderr, exit 2.
rc=0
"$MINICR" restore >/dev/null 2>"$WORK/err" || rc=$?
((rc == 2)) && grep -q "usage: minicr restore" "$WORK/err" && ! mentions "$WORK/err" --leave-running ||
	fail "minicr restore without DIR: exit $rc, want 2 with restore's help"
ok "a usage error shows that command's help"
