# tests/cr/lib/victim.sh: scenarios of the self-verifying workload
# minicr-test-victim (tests/workloads/victim.c; protocol in its header:
# DIR/ready lists the live tasks "PID COMM" as they see themselves,
# DIR/verify "GEN T_RESTORE T_RESTORED" makes each check itself and write
# DIR/result.PID "OK ..." or "FAIL ...").
#
# A scenario file sets VICTIM=<victim scenario> and calls nothing else:
#   VICTIM=tree
#   FLAVORS="host pidns"
#   source "$CR_DIR/lib/victim.sh"
# victim_main then, for each PID method of VICTIM_METHODS (default both
# with host, clone3 with pidns), starts the victim, dumps it, restores it
# VICTIM_ROUNDS times from the same images (default 2 with host, 1 with
# pidns; each copy killed before the next): same tree shape, untraced,
# every live task verifies itself.
# VICTIM_ENV: the environment the victim starts with (its attrs scenario
# checks it).

VICTIM_ENV=${VICTIM_ENV:-"hello world=1"}

mono_now() { "$MINICR_TEST_VICTIM" --now; }

# victim_verify GEN T0 T1: ask every live task to check itself; wait (20 s)
# for all results, print them; 1 if one is missing or says FAIL.
victim_verify() {
	local v=$S/v p bad=0
	rm -f "$v"/result.*
	echo "$1 $2 $3" >"$v/.verify.tmp"
	mv "$v/.verify.tmp" "$v/verify"
	for p in "${VLIVE[@]}"; do
		if ! wait_until 20 test -e "$v/result.$p"; then
			echo "task $p (in its namespace) wrote no result" >&2
			bad=1
			continue
		fi
		grep -q '^OK ' "$v/result.$p" || bad=1
	done
	if ((bad || ${#VLIVE[@]} <= 12)); then
		cat "$v"/result.* 2>/dev/null | sed 's/^/    /'
	else
		say "${#VLIVE[@]} tasks: $(cat "$v"/result.* | grep -c '^OK ') OK"
	fi
	rm -f "$v/verify"
	return $bad
}

victim_main() {
	local method round t0 t1 rounds
	local -a methods pids
	[[ -x "$MINICR_TEST_VICTIM" ]] || fail "missing $MINICR_TEST_VICTIM"
	if [[ -n "${VICTIM_METHODS:-}" ]]; then
		read -r -a methods <<<"$VICTIM_METHODS"
	elif [[ $FLAVOR == host ]]; then
		methods=(clone3 ns_last_pid)
	else
		methods=(clone3)
	fi
	rounds=${VICTIM_ROUNDS:-$([[ $FLAVOR == host ]] && echo 2 || echo 1)}
	for method in "${methods[@]}"; do
		rm -rf "$S/v" "$SRC_IMG" "$DST_IMG"
		mkdir -p "$S/v"
		flavor_spawn env MINICR_VICTIM_ENV="$VICTIM_ENV" "$MINICR_TEST_VICTIM" --scenario "$VICTIM" --dir "$S/v"
		STARTED+=("$ROOT")
		wait_until 40 test -e "$S/v/ready" || { cat "$S/wl.log" >&2; fail "victim $VICTIM did not get ready"; }
		mapfile -t VLIVE < <(awk '{ print $1 }' "$S/v/ready")
		tree_shape "$ROOT" >"$S/shape.before"
		mapfile -t pids < <(tree_pids "$ROOT")
		say "$VICTIM: ${#pids[@]} tasks, ${#VLIVE[@]} live"
		cr_dump
		wait_gone "${pids[@]}" || fail "the dumped tree is still there"
		move_images
		for ((round = 1; round <= rounds; round++)); do
			t0=$(mono_now)
			cr_restore --pid-method="$method"
			t1=$(mono_now)
			check_untraced "$ROOT" || fail "$method restore $round: tasks left traced"
			tree_shape "$ROOT" >"$S/shape.after"
			diff -u "$S/shape.before" "$S/shape.after" >&2 ||
				fail "$method restore $round: the restored tree differs (NSPID PARENT THREADS COMM)"
			victim_verify "$round" "$t0" "$t1" ||
				{ cat "$S/wl.log" >&2; fail "$method restore $round: verification failed (above)"; }
			ok "$VICTIM, --pid-method=$method, restore $round: same tree, ${#VLIVE[@]} live tasks verified"
			mapfile -t pids < <(tree_pids "$ROOT")
			kill_tree "$ROOT"
			wait_gone "${pids[@]}" || fail "$method restore $round: restored tree not gone after SIGKILL"
		done
	done
}
scenario_main() { victim_main; }
