# Cgroup refusals (tests/cr/lib/cgroups.sh sets the tree up): a thread in
# other cgroups than its leader is refused at dump, naming task and
# thread, no image left, the tree running on. Restore refuses, creating no
# task: an existing cgroup whose setting is not the recorded one (naming
# cgroup, file and both values), a hierarchy that is not mounted; a
# restore that fails after making cgroups removes them. The images then
# restore.
FLAVORS="host"
source "$CR_DIR/lib/cgroups.sh"

RARGS=()
refused() {   # refused WHAT PATTERN
	procs "$S/procs.before"
	expect_fail "$1" "$2" "${RPFX[@]}" "$MINICR" restore -d "$DST_IMG"
	[[ ! -s "$S/out" ]] || fail "$1: printed a root PID"
	no_new_tasks "$1" "$S/procs.before"
	ok "$1: refused, no task created"
}

scenario_main() {
	local r c z tid m v v1= v2= setm setf
	flavor_spawn "${WORKLOAD[@]}"
	STARTED+=("$ROOT")
	wait_until 10 ready || fail "the workload did not start"
	check_before || fail "cannot put the tree in its cgroups"
	read -r r c z <"$S/pids"
	tid=$(ls "/proc/$c/task" | sort -n | sed -n 2p)
	[[ -n $tid ]] || fail "the child has no second thread"
	for m in $(cg_used); do
		if [[ -e $m/cgroup.controllers ]]; then v2=$m; else v1=${v1:-$m}; fi
	done
	# One thread elsewhere: v1 moves single threads; v2 needs threaded cgroups.
	if [[ -n $v1 ]]; then
		mkdir "$v1/$CG/A/T" && echo "$tid" >"$v1/$CG/A/T/tasks" || fail "cannot move thread $tid"
	else
		mkdir "$v2/$CG/A/B/T" && echo threaded >"$v2/$CG/A/B/T/cgroup.type" &&
			echo "$tid" >"$v2/$CG/A/B/T/cgroup.threads" || fail "cannot move thread $tid"
	fi
	mapfile -t TREE < <(tree_pids "$ROOT" | grep -vx "$z")
	expect_fail "a thread in other cgroups" "task $c thread $tid: cgroup membership" \
		"$MINICR" dump -D "$SRC_IMG" "$DUMP_PID"
	[[ ! -e $SRC_IMG/inventory.img && ! -e $SRC_IMG/cgroup.img ]] || fail "images left behind"
	for p in "${TREE[@]}"; do alive "$p" || fail "task $p is gone after the refused dump"; done
	check_untraced "$ROOT" || fail "tasks left traced"
	ok "a thread in another cgroup: dump refused, the tree runs on"

	# Back with its leader: the dump goes through.
	if [[ -n $v1 ]]; then echo "$tid" >"$v1/$CG/A/B/tasks"; else echo "$c" >"$v2/$CG/A/B/cgroup.procs"; fi

	# A setting minicr does not record, unlike a new cgroup's: refused.
	m=$(cg_hierarchies | awk '$2 ~ /(^|,)memory(,|$)/ { print $1; exit }')
	if [[ -n $m && -e $m/$CG/A/B/memory.swappiness ]] && cg_is_used "$m"; then
		v=$(cat "$m/$CG/A/B/memory.swappiness")
		echo $((v == 30 ? 31 : 30)) >"$m/$CG/A/B/memory.swappiness" || fail "cannot set memory.swappiness"
		expect_fail "an unrecorded cgroup setting" \
			"refused: cgroup /$CG/A/B \(memory\): memory.swappiness is '3[01]', a new cgroup has '$v'" \
			"$MINICR" dump --dry-run "$DUMP_PID"
		echo "$v" >"$m/$CG/A/B/memory.swappiness"
		ls -d "$m/$CG/A/.minicr-probe-"* 2>/dev/null && fail "a probe cgroup was left behind"
		ok "memory.swappiness not a new cgroup's: refused naming cgroup, file and values"
	else
		say "no v1 memory hierarchy used here: no unrecorded setting to try"
	fi
	rm -rf "$SRC_IMG"
	cr_dump
	wait_gone "${TREE[@]}"
	move_images

	read -r setm _ setf _ < <(grep " /$CG/A/B " "$S/cg.settings" | head -1) || true
	if [[ -n ${setm:-} ]]; then
		cp "$setm/$CG/A/B/$setf" "$S/setting.orig"
		case $setf in
		cpu.shares) echo 700 ;; cpu.weight) echo 70 ;; pids.max) echo 77 ;; *) echo 134217728 ;;
		esac >"$setm/$CG/A/B/$setf"
		RPFX=()
		refused "/$CG/A/B has another $setf" "cgroup /$CG/A/B .*exists with $setf '[^']*', recorded '$(cat "$S/setting.orig")'"
		cat "$S/setting.orig" >"$setm/$CG/A/B/$setf"
	fi

	m=${v1:-$v2}
	RPFX=(unshare -m -- sh -c 'umount -l "$0" && exec "$@"' "$m")
	refused "$m not mounted" "images need the cgroup v[12] hierarchy.*not mounted"

	# Fails after making /$CG/A/B: it is removed again, A (not made) stays.
	for m in $(cg_used); do rmdir "$m/$CG/A/T" 2>/dev/null || true; rmdir "$m/$CG/A/B" || fail "cannot remove $m/$CG/A/B"; done
	RPFX=(env MINICR_FAULT_STEP=0)
	refused "a failed restore" "failing step 0 on purpose"
	for m in $(cg_used); do
		[[ ! -e $m/$CG/A/B && -d $m/$CG/A ]] || fail "$m: the failed restore left $CG/A/B or removed $CG/A"
	done
	ok "a failed restore removed the cgroups it made"

	cr_restore
	c=$(outer_of "$c")
	grep -q ":/$CG/A/B\$" "/proc/$c/cgroup" || fail "the restored child is not in /$CG/A/B"
	ok "the images restore once the causes are gone"
}
