#!/usr/bin/env bash
# minicr dump of the 22-task test tree: the images describe exactly the tree
# /proc showed (minicr-decode show == snapshot), the tree is killed
# afterwards, and the zombies' core images keep their exit status / signal.
source "$(dirname "$0")/_common.sh"
enter_pidns "$@"
setup_work

start_tree
root=$TREE_PID
snapshot "$root" >"$WORK/expected.txt"
say "tree before the dump:"
cat "$WORK/expected.txt"

# The workload itself: the shape the test relies on.
exp=$WORK/expected.txt
ntasks=$(($(wc -l <"$exp") - 1))
((ntasks >= 20)) || fail "tree has $ntasks tasks, want >= 20"
nsess=$(awk 'NR > 1 { print $4 }' "$exp" | sort -u | wc -l)
((nsess == 3)) || fail "tree has $nsess sessions, want 3"
[[ $(awk 'NR > 1 && $5 == "Z"' "$exp" | wc -l) == 2 ]] || fail "want 2 zombies"
[[ $(awk 'NR > 1 && $5 == "T"' "$exp" | wc -l) == 1 ]] || fail "want 1 stopped task"
[[ $(awk 'NR > 1 && $5 == "S"' "$exp" | wc -l) == $((ntasks - 3)) ]] || fail "want the rest asleep"
[[ $(awk 'NR > 1 && $6 == 4' "$exp" | wc -l) == 1 ]] || fail "want 1 task with 4 threads"
# A process group whose leader is gone.
leaderless=$(awk 'NR > 1 { pid[$1] = 1; pg[$3] = 1 } END { for (g in pg) if (!(g in pid)) n++; print n + 0 }' "$exp")
((leaderless >= 1)) || fail "want a process group whose leader has exited"
ok "workload: $ntasks tasks, 3 sessions, 2 zombies, 1 stopped, 1 with 4 threads, $leaderless leaderless group"

z7=$(pid_of_comm "$exp" zombie-exit7)
zterm=$(pid_of_comm "$exp" zombie-sigterm)
mapfile -t pids < <(awk 'NR > 1 { print $1 }' "$exp")

img=$WORK/img
"$MINICR" dump -D "$img" "$root" || fail "minicr dump exited $?"
ok "minicr dump -D $img $root"

[[ -f "$img/inventory.img" ]] || fail "no inventory.img"
[[ -f "$img/pstree.img" ]] || fail "no pstree.img"
for p in "${pids[@]}"; do
	[[ -f "$img/core-$p.img" ]] || fail "no core-$p.img"
done
[[ "$(stat -c %a "$img")" == 700 ]] || fail "images dir mode $(stat -c %a "$img"), want 700"
ok "inventory.img, pstree.img and ${#pids[@]} core images, dir mode 0700"

"$MINICR_DECODE" show "$img" >"$WORK/show.txt" || fail "minicr-decode show exited $?"
compare_show "$exp" "$WORK/show.txt" || fail "minicr-decode show differs from /proc (diff above)"
ok "minicr-decode show matches the /proc snapshot"

# The tree is gone: the root was killed by SIGKILL, and every task is dead
# (no /proc entry, or a zombie waiting for PID 1 of the namespace to reap it).
rc=0
wait "$root" || rc=$?
[[ $rc == 137 ]] || fail "tree root ended with status $rc, want 137 (SIGKILL)"
for p in "${pids[@]}"; do
	for ((i = 0; i < 100; i++)); do
		st=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$p/stat" 2>/dev/null) || st=
		[[ -z "$st" || "$st" == Z || "$st" == X ]] && break
		sleep 0.05
	done
	[[ -z "$st" || "$st" == Z || "$st" == X ]] || fail "task $p still alive after the dump (state $st)"
done
ok "the tree was killed (root: SIGKILL; all ${#pids[@]} tasks dead)"

# The zombies' core images.
"$MINICR_DECODE" decode "$img/core-$z7.img" >"$WORK/z7.json" || fail "decode core-$z7.img"
"$MINICR_DECODE" decode "$img/core-$zterm.img" >"$WORK/zterm.json" || fail "decode core-$zterm.img"
cat "$WORK/z7.json" "$WORK/zterm.json"
[[ "$(json_get "$WORK/z7.json" state)" =~ ^(TASK_ZOMBIE|4)$ ]] || fail "core-$z7: state is not TASK_ZOMBIE"
[[ "$(json_get "$WORK/z7.json" exit_code)" == 7 ]] || fail "core-$z7: exit_code is not 7"
[[ -z "$(json_get "$WORK/z7.json" exit_signal)" ]] || fail "core-$z7: has an exit_signal"
[[ "$(json_get "$WORK/zterm.json" state)" =~ ^(TASK_ZOMBIE|4)$ ]] || fail "core-$zterm: state is not TASK_ZOMBIE"
[[ "$(json_get "$WORK/zterm.json" exit_signal)" == 15 ]] || fail "core-$zterm: exit_signal is not 15 (SIGTERM)"
[[ -z "$(json_get "$WORK/zterm.json" exit_code)" ]] || fail "core-$zterm: has an exit_code"
ok "zombie cores: exit_code 7 / exit_signal 15"

# Other core images: comm and state agree with the snapshot.
while read -r pid _ _ _ state _ comm; do
	"$MINICR_DECODE" decode "$img/core-$pid.img" >"$WORK/c.json" || fail "decode core-$pid.img"
	[[ "$(json_get "$WORK/c.json" pid)" == "$pid" ]] || fail "core-$pid.img: pid field"
	[[ "$(json_get "$WORK/c.json" comm)" == "$comm" ]] || fail "core-$pid.img: comm is not $comm"
	case $state in
	S) want=TASK_SLEEPING ;; T) want=TASK_STOPPED ;; Z) want=TASK_ZOMBIE ;; R) want=TASK_RUNNING ;;
	esac
	[[ "$(json_get "$WORK/c.json" state)" == "$want" ]] || fail "core-$pid.img: state is not $want"
done < <(tail -n +2 "$exp")
ok "every core image has the task's pid, comm and state"

"$MINICR_DECODE" decode "$img/inventory.img" >"$WORK/inv.json" || fail "decode inventory.img"
[[ "$(json_get "$WORK/inv.json" root_pid)" == "$root" ]] || fail "inventory: root_pid is not $root"
[[ "$(json_get "$WORK/inv.json" nr_tasks)" == "$ntasks" ]] || fail "inventory: nr_tasks is not $ntasks"
[[ "$(json_get "$WORK/inv.json" root_is_ns_init)" == false ]] || fail "inventory: root_is_ns_init"
ok "inventory: root_pid $root, nr_tasks $ntasks"
say "PASS"
