#!/usr/bin/env bash
# --shell-job: a job started from an interactive shell in one terminal
# (a tmux pane running bash -i) is dumped with --shell-job and restored with
# --shell-job from another terminal (a second tmux pane): its fds on the
# old terminal now point to the new one, it is the foreground process group
# there, and it keeps writing to it. Without --shell-job the dump is
# refused with a message suggesting it, and the job keeps running.
source "$(dirname "$0")/_common.sh"
enter_pidns "$@"
setup_work
command -v tmux >/dev/null || fail "tmux is missing"

TM=(tmux -L "minicr-$TEST_NAME-$$" -f /dev/null)
tmux_cleanup() {
	"${TM[@]}" kill-server 2>/dev/null || true
	cleanup
}
trap tmux_cleanup EXIT

cat >"$WORK/job.py" <<'PY'
import os, sys, time
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % os.getpid())
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
n = 0
while True:
    print("tick %d" % n, flush=True)
    n += 1
    time.sleep(0.1)
PY

# last_tick SESSION: the highest "tick N" on the pane's screen
last_tick() {
	"${TM[@]}" capture-pane -p -t "$1" 2>/dev/null | sed -n 's/^tick \([0-9]*\)$/\1/p' | tail -n1
}
# pane_tty SESSION
pane_tty() { "${TM[@]}" display-message -p -t "$1" '#{pane_tty}'; }
# stat_field PID N: field N of /proc/PID/stat (after the comm)
stat_field() { awk -v n="$2" '{ sub(/.*\) /, ""); print $(n - 2) }' "/proc/$1/stat"; }

"${TM[@]}" new-session -d -s one -x 80 -y 24 "env PS1='$ ' bash --norc --noprofile -i"
"${TM[@]}" send-keys -t one "exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-; python3 $WORK/job.py $WORK/job.pid" Enter
wait_for_file "$WORK/job.pid" 20 || fail "the job did not start in the first terminal"
pid=$(cat "$WORK/job.pid")
TREES+=("$pid")
tty1=$(pane_tty one)
[[ "$(readlink "/proc/$pid/fd/1")" == "$tty1" ]] || fail "job's stdout is not $tty1"
[[ "$(stat_field "$pid" 8)" == "$pid" ]] || fail "the job is not the foreground group of $tty1"
say "job $pid runs on $tty1"

# Without --shell-job: refused, and the job goes on.
if "$MINICR" dump -D "$WORK/img0" "$pid" >"$WORK/dump0.log" 2>&1; then
	fail "dump without --shell-job succeeded"
fi
cat "$WORK/dump0.log"
grep -q "task $pid: fd 0 is the terminal $tty1.*--shell-job" "$WORK/dump0.log" ||
	fail "the refusal does not name the terminal and suggest --shell-job"
check_untraced "$pid" || fail "job left traced"
t0=$(last_tick one)
sleep 0.5
(($(last_tick one) > t0)) || fail "the job stopped writing after the refused dump"
ok "without --shell-job: refused, the job goes on"

"$MINICR" dump --shell-job -D "$WORK/img" "$pid" >"$WORK/dump.log" 2>&1 ||
	{ cat "$WORK/dump.log" >&2; fail "dump --shell-job failed"; }
wait_gone "$pid" || fail "the dumped job is still there"
dumped=$(last_tick one)
"$MINICR_DECODE" decode "$WORK/img/files.img" >"$WORK/files.json"
grep -q '"tty"' "$WORK/files.json" || fail "no terminal in files.img"
ok "dumped with --shell-job at tick $dumped"

# Restoring without --shell-job is refused too.
if "$MINICR" restore -d "$WORK/img" >"$WORK/r0.log" 2>&1; then
	fail "restore without --shell-job succeeded"
fi
grep -q -- "--shell-job" "$WORK/r0.log" || { cat "$WORK/r0.log" >&2; fail "restore refusal does not suggest --shell-job"; }
[[ ! -d /proc/$pid ]] || fail "the refused restore left task $pid behind"

"${TM[@]}" new-session -d -s two -x 80 -y 24 \
	"$MINICR restore --shell-job $WORK/img 2>$WORK/restore.err; echo restore-exit-\$?; sleep 60"
tty2=$(pane_tty two)
for ((i = 0; i < 200; i++)); do
	[[ -d /proc/$pid ]] && [[ "$(readlink "/proc/$pid/fd/1" 2>/dev/null)" == "$tty2" ]] && break
	sleep 0.05
done
[[ -d /proc/$pid ]] || { cat "$WORK/restore.err" >&2; "${TM[@]}" capture-pane -p -t two >&2; fail "restore failed"; }
for f in 0 1 2; do
	[[ "$(readlink "/proc/$pid/fd/$f")" == "$tty2" ]] ||
		fail "restored fd $f is $(readlink "/proc/$pid/fd/$f"), not the new terminal $tty2"
done
check_untraced "$pid" || fail "restored job left traced"
tpgid=$(stat_field "$pid" 8)
[[ "$tpgid" == "$pid" ]] || fail "restored job is not the foreground group of $tty2 (tpgid $tpgid)"
for ((i = 0; i < 100; i++)); do
	t=$(last_tick two)
	[[ -n "$t" ]] && ((t > dumped + 5)) && break
	sleep 0.05
done
[[ -n "$t" ]] && ((t > dumped + 5)) || {
	"${TM[@]}" capture-pane -p -t two >&2
	fail "the restored job does not write on to the new terminal (last tick '${t}', dumped at $dumped)"
}
ok "restored on $tty2 (was $tty1): foreground, ticks on from $dumped to $t"
kill -KILL "$pid"
for ((i = 0; i < 100; i++)); do
	"${TM[@]}" capture-pane -p -t two | grep -q restore-exit- && break
	sleep 0.05
done
"${TM[@]}" capture-pane -p -t two | grep -q "restore-exit-137" ||
	fail "minicr restore did not report the job's SIGKILL (137)"
ok "minicr restore exited with the job's status"
say "PASS"
