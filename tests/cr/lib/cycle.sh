# tests/cr/lib/cycle.sh: the standard cycle a scenario gets unless it
# defines scenario_main:
#
#   flavor_spawn "${WORKLOAD[@]}"   start (ROOT, DUMP_PID)
#   ready                           polled until it succeeds (READY_TIMEOUT s)
#   check_before                    optional
#   minicr dump -D SRC_IMG $DUMP_PID ${DUMP_ARGS[@]} (on the source side);
#                                   the dumped tree must be gone
#   move_images                     SRC_IMG -> DST_IMG
#   before_restore                  optional (e.g. put a file back)
#   minicr restore -d $(restore_args) ${RESTORE_ARGS[@]} DST_IMG
#                                   (on the destination); ROOT := the new root
#   the restored tree: same shape (PIDs as the tree sees them, parents,
#   comms), nothing traced
#   check_after                     the workload verifies itself / is checked
#   the restored tree is killed and must be gone
#
# Hooks see ROOT, DUMP_PID, S, FLAVOR, SRC_IMG, DST_IMG, SHAPE_BEFORE (file).

READY_TIMEOUT=${READY_TIMEOUT:-20}
# tree: the whole restored tree must have the dumped shape; root: only the
# root (a workload that forks and reaps all the time, like a shell loop)
SHAPE_CHECK=tree
DUMP_ARGS=()
RESTORE_ARGS=()

# Restored trees and workloads this scenario started, killed at cleanup.
STARTED=()

cycle_cleanup() {
	local r
	for r in "${STARTED[@]}"; do
		[[ -n "$r" ]] && kill_tree "$r"
	done
}

# cr_dump [ARGS...]: minicr dump of DUMP_PID into SRC_IMG on the source side.
# DUMP_RETRY (host, pidns): an ERE of a refusal that only says "dump again"
# (the tree runs on): then up to two more dumps.
cr_dump() {
	local t0=$SECONDS try rc=0
	if [[ $FLAVOR == migrate ]]; then
		stream_dump "$@" || rc=$?
	else
		for try in 1 2 3; do
			rc=0
			on_src "$MINICR" dump -D "$SRC_IMG" "$@" "$DUMP_PID" >"$S/dump.log" 2>&1 || rc=$?
			if ((rc == 0 || try == 3)) || [[ -z ${DUMP_RETRY:-} ]] ||
				! grep -Eq "$DUMP_RETRY" "$S/dump.log"; then
				break
			fi
			sed 's/^/    | /' "$S/dump.log"
			say "dump $try refused for a passing state: again"
			rm -rf "$SRC_IMG"
		done
	fi
	((rc == 0)) || { cat "$S/dump.log" >&2; fail "minicr dump $DUMP_PID failed"; }
	say "dumped $DUMP_PID in $((SECONDS - t0)) s"
}

# cr_restore [ARGS...]: minicr restore -d of DST_IMG on the destination;
# sets ROOT to the restored root as seen here.
cr_restore() {
	local out
	if [[ $FLAVOR == migrate ]]; then
		out=$(stream_restore $(restore_args) "$@" 2>"$S/restore.log")
	else
		out=$(on_dst "$MINICR" restore -d $(restore_args) "$@" "$DST_IMG" 2>"$S/restore.log")
	fi || { cat "$S/restore.log" >&2; fail "minicr restore failed"; }
	[[ $FLAVOR != migrate ]] || stream_done
	ROOT=$(outer_pid "$out") || fail "restore printed root '$out', not found here"
	STARTED+=("$ROOT")
	say "restored: root $out on the destination, $ROOT here"
}

cr_cycle() {
	local -a before
	declare -F ready >/dev/null || ready() { sleep 0.3; }
	if declare -F flavor_setup_hook >/dev/null; then
		flavor_setup_hook || fail "flavor_setup_hook failed"
	fi
	flavor_spawn "${WORKLOAD[@]}"
	STARTED+=("$ROOT")
	wait_until "$READY_TIMEOUT" ready ||
		{ cat "$S/wl.log" >&2; fail "the workload did not get ready in $READY_TIMEOUT s"; }
	alive "$ROOT" || { cat "$S/wl.log" >&2; fail "the workload died before the dump"; }
	if declare -F check_before >/dev/null; then
		check_before || fail "check_before failed"
	fi
	SHAPE_BEFORE=$S/shape.before
	tree_shape "$ROOT" >"$SHAPE_BEFORE"
	mapfile -t before < <(tree_pids "$ROOT")
	cr_dump "${DUMP_ARGS[@]}"
	wait_gone "${before[@]}" || fail "the dumped tree is still there"
	move_images
	if declare -F before_restore >/dev/null; then
		before_restore || fail "before_restore failed"
	fi
	cr_restore "${RESTORE_ARGS[@]}"
	check_untraced "$ROOT" || fail "the restored tree is traced"
	tree_shape "$ROOT" >"$S/shape.after"
	if [[ $SHAPE_CHECK == root ]]; then
		head -n1 "$SHAPE_BEFORE" >"$S/shape.b" && mv "$S/shape.b" "$SHAPE_BEFORE"
		grep -F -x "$(cat "$SHAPE_BEFORE")" "$S/shape.after" >"$S/shape.a" || true
		mv "$S/shape.a" "$S/shape.after"
	fi
	diff -u "$SHAPE_BEFORE" "$S/shape.after" >&2 ||
		fail "the restored tree differs from the dumped one (NSPID PPID COMM, diff above)"
	check_after || fail "check_after failed"
	mapfile -t before < <(tree_pids "$ROOT")
	kill_tree "$ROOT"
	wait_gone "${before[@]}" || fail "the restored tree is not gone after SIGKILL"
	ok "dump, move, restore: $(wc -l <"$SHAPE_BEFORE") tasks, checks passed"
}
