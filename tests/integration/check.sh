#!/usr/bin/env bash
# minicr check: as root on this kernel every feature is there; one line per
# feature; exit 0; the probe child is gone afterwards. Without privileges it
# must report what is missing and exit non-zero.
source "$(dirname "$0")/_common.sh"
enter_pidns "$@"
setup_work

rc=0
"$MINICR" check >"$WORK/out" 2>"$WORK/err" || rc=$?
cat "$WORK/out" "$WORK/err"
((rc == 0)) || fail "minicr check exited $rc"
nfeat=$(grep -Ec '[[:space:]]ok$' "$WORK/out" || true)
((nfeat >= 5)) || fail "only $nfeat feature lines ending in 'ok'"
! grep -q MISSING "$WORK/out" || fail "a feature is reported MISSING as root"
# Every line but the closing one is a feature line.
bad=$(grep -Evc '^.+[[:space:]](ok|MISSING \(.*\))$' <(sed '$d' "$WORK/out") || true)
((bad == 0)) || fail "$bad lines that are not 'FEATURE ok|MISSING (why)'"
[[ ! -s "$WORK/err" ]] || fail "minicr check wrote to stderr"
ok "minicr check: exit 0, $nfeat features ok"

# Nothing left behind: the probe child (a fork of minicr) is gone.
left=$(ps -e -o pid=,ppid=,stat=,comm= | awk '$4 == "minicr"')
[[ -z "$left" ]] || fail "tasks left behind by minicr check: $left"
ok "the probe child was reaped"

# Unprivileged (nobody, no capabilities): writing ns_last_pid needs
# CAP_SYS_ADMIN / CAP_CHECKPOINT_RESTORE, so check must say so and fail.
if command -v setpriv >/dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups \
	--inh-caps=-all --bounding-set=-all test -x "$MINICR"; then
	rc=0
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
		"$MINICR" check >"$WORK/out" 2>"$WORK/err" || rc=$?
	cat "$WORK/out" "$WORK/err"
	((rc != 0)) || fail "unprivileged minicr check exited 0"
	grep -q 'ns_last_pid.*MISSING' "$WORK/out" || fail "unprivileged: ns_last_pid not reported MISSING"
	[[ -s "$WORK/err" ]] || fail "unprivileged: no error message"
	ok "unprivileged minicr check: exit $rc, reports what is missing"
else
	say "skip unprivileged check: $MINICR is not reachable by nobody"
fi
say "PASS"
