#!/usr/bin/env bash
# What minicr refuses about unix sockets, before anything is written, the
# tree going on untouched (minicr-test-sk): a file descriptor in flight
# (SCM_RIGHTS queued, not yet received) on a socketpair between a parent
# and a child (--mode scm), and a pending out-of-band byte (--mode oob).
# The message names the task, the fd and why; no image is left; afterwards
# the parent still receives the fd, or the data and the OOB byte.
source "$(dirname "$0")/_common.sh"
: "${MINICR_TEST_SK:=$MINICR_BUILD_DIR/tests/workloads/minicr-test-sk}"
enter_pidns "$@"
setup_work
[[ -x "$MINICR_TEST_SK" ]] || fail "missing $MINICR_TEST_SK"

# refuse MODE PATTERN: the dump of minicr-test-sk --mode MODE fails with a
# message matching PATTERN naming the task and an fd, leaves no image, and
# the workload then finishes fine.
refuse() {
	local mode=$1 pat=$2 d=$WORK/$1 root child msg
	mkdir -p "$d"
	SPAWN_OUT=$d/log spawn_clean "$MINICR_TEST_SK" --dir "$d" --mode "$mode"
	disown "$SPAWN_PID"
	TREES+=("$SPAWN_PID")
	wait_for_file "$d/ready" 20 || { cat "$d/log" >&2; fail "$mode: workload not ready"; }
	read -r root child <"$d/ready"
	if "$MINICR" dump -D "$WORK/img-$mode" "$root" >"$WORK/dump.log" 2>&1; then
		fail "$mode: the dump succeeded"
	fi
	msg=$(grep -m1 -- "$pat" "$WORK/dump.log") ||
		{ cat "$WORK/dump.log" >&2; fail "$mode: the refusal does not mention $pat"; }
	[[ "$msg" == *"task $root: fd "* ]] || fail "$mode: the refusal does not name task $root and its fd: $msg"
	ok "$mode refused: $msg"
	[[ -z "$(ls "$WORK/img-$mode" 2>/dev/null)" ]] ||
		fail "$mode: images left behind: $(ls "$WORK/img-$mode" | xargs)"
	check_untraced "$root" || fail "$mode: tasks left traced"
	touch "$d/go"
	wait_for_file "$d/result" 20 || { cat "$d/log" >&2; fail "$mode: no result after the refused dump"; }
	grep -q '^OK ' "$d/result" || fail "$mode: after the refused dump: $(cat "$d/result")"
	ok "$mode: the tree went on: $(cat "$d/result")"
	wait_gone "$root" "$child" || fail "$mode: workload did not finish"
}

refuse scm 'SCM_RIGHTS'
refuse oob 'out-of-band'
say "PASS"
