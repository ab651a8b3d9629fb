#!/usr/bin/env bash
# Pipes and FIFOs with data buffered at dump time (minicr-test-pipes,
# tests/workloads/pipes_pair.c): a parent and a child joined by a pipe (then
# by a FIFO) holding 1,000 unread bytes. A --leave-running dump must not
# consume them; after dump + restore the parent reads exactly those bytes,
# then the 500 the child writes after the restore, then EOF when the child
# exits; the pipe keeps its 128 KiB capacity. The pipe data is in the
# images (pipe-data-<id>.img, 1000 bytes).
source "$(dirname "$0")/_common.sh"
: "${MINICR_TEST_PIPES:=$MINICR_BUILD_DIR/tests/workloads/minicr-test-pipes}"
enter_pidns "$@"
setup_work
[[ -x "$MINICR_TEST_PIPES" ]] || fail "missing $MINICR_TEST_PIPES"

# start_pipes DIR ARGS...: start the workload, wait until its data is queued.
start_pipes() {
	local d=$1
	shift
	mkdir -p "$d"
	SPAWN_OUT=$d/log spawn_clean "$MINICR_TEST_PIPES" --dir "$d" "$@"
	disown "$SPAWN_PID"
	TREES+=("$SPAWN_PID")
	wait_for_file "$d/ready" 20 || { cat "$d/log" >&2; fail "workload $* not ready"; }
}

# finish DIR WHAT: let the workload go on and check its verdict.
finish() {
	local d=$1 what=$2
	touch "$d/go"
	wait_for_file "$d/result" 20 || { cat "$d/log" >&2; fail "$what: no result"; }
	grep -q '^OK ' "$d/result" || { cat "$d/result" "$d/log" >&2; fail "$what: $(cat "$d/result")"; }
	ok "$what: $(cat "$d/result")"
}

for mode in pipe fifo; do
	args=()
	[[ $mode == fifo ]] && args=(--fifo)

	# --leave-running: the dump reads the data without consuming it.
	d=$WORK/$mode-lr
	start_pipes "$d" "${args[@]}"
	root=$(awk '{ print $1 }' "$d/ready")
	"$MINICR" dump --leave-running -D "$WORK/img-$mode-lr" "$root" >"$WORK/dump.log" 2>&1 ||
		{ cat "$WORK/dump.log" >&2; fail "$mode: dump --leave-running failed"; }
	finish "$d" "$mode, after dump --leave-running"
	wait_gone "$root" || fail "$mode: workload did not finish after dump --leave-running"

	# dump (kills the tree), restore, go on.
	d=$WORK/$mode
	start_pipes "$d" "${args[@]}"
	read -r root child <"$d/ready"
	img=$WORK/img-$mode
	"$MINICR" dump -D "$img" "$root" >"$WORK/dump.log" 2>&1 ||
		{ cat "$WORK/dump.log" >&2; fail "$mode: dump failed"; }
	wait_gone "$root" "$child" || fail "$mode: the dumped tree is not gone"
	n=0
	for f in "$img"/pipe-data-*.img; do
		[[ -e $f ]] || continue
		n=$(($(stat -c %s "$f") - 4))
	done
	((n == 1000)) || fail "$mode: pipe data image holds $n bytes, want 1000"
	"$MINICR" restore -d "$img" >"$WORK/restore.out" 2>"$WORK/restore.err" ||
		{ cat "$WORK/restore.err" >&2; fail "$mode: restore failed"; }
	[[ -d /proc/$root && -d /proc/$child ]] || fail "$mode: restored tasks missing"
	check_untraced "$root" || fail "$mode: tasks left traced"
	finish "$d" "$mode, after dump + restore"
	wait_gone "$root" "$child" || fail "$mode: restored tree did not finish"
done
say "PASS"
