# Attributes minicr cannot restore exactly are refused, naming task and
# thread: a SCHED_DEADLINE thread of minicr-test-attrs --deadline makes the
# dump fail before any image is complete, and the tree runs on with its
# attributes. At restore, images edited to pin a thread to CPUs this
# machine does not have, or to lower oom_score_adj below what minicr may
# set without CAP_SYS_RESOURCE, fail with a message and leave no task.
FLAVORS="host pidns"
source "$CR_DIR/scenarios/task-attrs.sh"
unset WORKLOAD

# edited NAME PY: a copy of the images as $S/bad-NAME, every core image
# rewritten by the python expression PY applied to each attrs dict `a`,
# then sealed (minicr-decode seal).
edited() {
	local name=$1 f
	rm -rf "$S/bad-$name"
	cp -a "$DST_IMG" "$S/bad-$name"
	for f in "$S/bad-$name"/core-*.img; do
		"$MINICR_DECODE" decode "$f" | python3 -c '
import json, sys
def walk(o):
    if isinstance(o, dict):
        if isinstance(o.get("attrs"), dict):
            a = o["attrs"]
            '"$2"'
        for v in o.values():
            walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
d = json.load(sys.stdin)
walk(d)
json.dump(d, sys.stdout)' >"$f.json" || fail "cannot edit $f"
		"$MINICR_DECODE" encode "$f.json" -o "$f" || fail "cannot encode $f"
		rm "$f.json"
	done
	# A deliberate edit: list the edited files in inventory.img, or restore
	# refuses them as damaged before it gets to the attributes.
	"$MINICR_DECODE" seal "$S/bad-$name" >/dev/null || fail "cannot seal $S/bad-$name"
}

restore_refused() {
	local what=$1 dir=$2 pat=$3
	procs "$S/procs.before"
	expect_fail "$what" "$pat" "$MINICR" restore -d $(restore_args) "$dir"
	no_new_tasks "$what" "$S/procs.before"
	ok "$what: restore refused, no task left"
}

# A task whose uid changed while fs.suid_dumpable was 2 is dumpable 2, which
# prctl cannot set: refused at dump. The sysctl is global: set for the
# moment the workload changes its uid, then put back.
dumpable_root() {
	local old
	old=$(cat /proc/sys/fs/suid_dumpable) || fail "cannot read fs.suid_dumpable"
	echo 2 >/proc/sys/fs/suid_dumpable || fail "cannot set fs.suid_dumpable"
	# stdout is $S/wl.log, opened before the uid change.
	flavor_spawn python3 -c 'import ctypes, os, time
os.setresgid(1000, 1000, 1000); os.setresuid(1000, 1000, 1000)
print("dumpable", ctypes.CDLL(None).prctl(3, 0, 0, 0, 0), flush=True)
time.sleep(1000)'
	STARTED+=("$ROOT")
	wait_until 10 grep -q "^dumpable" "$S/wl.log" || true
	echo "$old" >/proc/sys/fs/suid_dumpable
	grep -q "^dumpable 2$" "$S/wl.log" || fail "the workload is not dumpable 2: $(cat "$S/wl.log")"
	mapfile -t TREE < <(tree_pids "$ROOT")
	expect_fail "dump of a task with dumpable 2" \
		"task $DUMP_PID: dumpable 2 \(SUID_DUMP_ROOT.*can set only 0 or 1" \
		"$MINICR" dump -D "$S/img-suid" "$DUMP_PID"
	[[ ! -e "$S/img-suid/inventory.img" ]] || fail "the refused dump left inventory.img"
	alive "$ROOT" || fail "the task is gone after the refused dump"
	ok "dumpable 2 refused at dump, the task runs on"
	kill_tree "$ROOT"
	wait_gone "${TREE[@]}" || fail "the workload is not gone"
}

scenario_main() {
	local p
	dumpable_root
	flavor_spawn "$MINICR_BUILD_DIR/tests/workloads/minicr-test-attrs" "$S/a" --deadline
	STARTED+=("$ROOT")
	wait_until 20 eval 'ready && test -e "$S/a/ready.dl"' || { cat "$S/wl.log" >&2; fail "the workload did not get ready"; }
	mapfile -t TREE < <(tree_pids "$ROOT")
	expect_fail "dump of a SCHED_DEADLINE thread" \
		"task $DUMP_PID thread [0-9]+: scheduling policy SCHED_DEADLINE" \
		"$MINICR" dump -D "$SRC_IMG" "$DUMP_PID"
	[[ ! -e "$SRC_IMG/inventory.img" ]] || fail "the refused dump left inventory.img"
	for p in "${TREE[@]}"; do
		alive "$p" || fail "task $p is gone after the refused dump"
	done
	check_untraced "$ROOT" || fail "tasks left traced after the refused dump"
	attrs_verify 1 || fail "the tree lost attributes after the refused dump"
	ok "SCHED_DEADLINE refused naming task and thread; the tree runs on, attributes intact"
	kill_tree "$ROOT"
	wait_gone "${TREE[@]}" || fail "the workload is not gone"

	rm -rf "$SRC_IMG" "$S/a"
	flavor_spawn "$MINICR_BUILD_DIR/tests/workloads/minicr-test-attrs" "$S/a"
	STARTED+=("$ROOT")
	wait_until 20 ready || { cat "$S/wl.log" >&2; fail "the workload did not get ready"; }
	mapfile -t TREE < <(tree_pids "$ROOT")
	cr_dump
	wait_gone "${TREE[@]}" || fail "the dumped tree is still there"
	move_images
	edited cpus 'a.update(affinity="ff") if "affinity" in a else None'
	restore_refused "affinity on CPUs 0-7" "$S/bad-cpus" \
		"thread [0-9]+: CPU affinity 0-7 names CPUs this machine does not have online \(online: "
	# With CAP_SYS_RESOURCE (bit 24), minicr may lower it: nothing to refuse.
	if (($(awk '/^CapEff:/ { print "0x" $2 }' /proc/self/status) >> 24 & 1)); then
		say "minicr has CAP_SYS_RESOURCE here: no oom_score_adj refusal to see"
		return 0
	fi
	edited oom 'a.update(oom_score_adj=-500) if "oom_score_adj" in a else None'
	restore_refused "oom_score_adj -500" "$S/bad-oom" \
		"task [0-9]+: cannot set /proc/[0-9]+/oom_score_adj to -500 .*CAP_SYS_RESOURCE"
}
