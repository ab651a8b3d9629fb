#!/usr/bin/env bash
# What minicr refuses about unix sockets, before anything is written, the
# tree going on untouched: a file descriptor in flight (SCM_RIGHTS queued,
# not yet received) on a socketpair between a parent and a child
# (minicr-test-sk --mode scm). The message names the task, the fd and why;
# no image is left; afterwards the parent still receives the fd.
source "$(dirname "$0")/_common.sh"
: "${MINICR_TEST_SK:=$MINICR_BUILD_DIR/tests/workloads/minicr-test-sk}"
enter_pidns "$@"
setup_work
[[ -x "$MINICR_TEST_SK" ]] || fail "missing $MINICR_TEST_SK"

d=$WORK/scm
mkdir -p "$d"
SPAWN_OUT=$d/log spawn_clean "$MINICR_TEST_SK" --dir "$d" --mode scm
disown "$SPAWN_PID"
TREES+=("$SPAWN_PID")
wait_for_file "$d/ready" 20 || { cat "$d/log" >&2; fail "workload not ready"; }
read -r root child <"$d/ready"
if "$MINICR" dump -D "$WORK/img" "$root" >"$WORK/dump.log" 2>&1; then
	fail "dump of a tree with an fd in flight succeeded"
fi
msg=$(grep -m1 'SCM_RIGHTS' "$WORK/dump.log") ||
	{ cat "$WORK/dump.log" >&2; fail "the refusal does not mention SCM_RIGHTS"; }
[[ "$msg" == *"task $root: fd "* ]] || fail "the refusal does not name task $root and its fd: $msg"
ok "refused: $msg"
[[ ! -e "$WORK/img/inventory.img" && -z "$(ls "$WORK/img")" ]] ||
	fail "images left behind: $(ls "$WORK/img" | xargs)"
check_untraced "$root" || fail "tasks left traced"
touch "$d/go"
wait_for_file "$d/result" 20 || { cat "$d/log" >&2; fail "no result after the refused dump"; }
grep -q '^OK ' "$d/result" || fail "after the refused dump: $(cat "$d/result")"
ok "the tree went on: $(cat "$d/result")"
wait_gone "$root" "$child" || fail "workload did not finish"
say "PASS"
