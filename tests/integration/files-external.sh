#!/usr/bin/env bash
# External files and restore --inherit-fd: a task reading lines from a pipe
# whose writer is outside the dumped tree (the test's own `cat` coprocess).
# The dump names the pipe as external with its key (pipe:[INO]); an
# --inherit-fd with a key the images lack is refused and creates nothing,
# so is a restore without one of images edited to lack the pipe's capacity
# (as an older minicr wrote them);
# restore without --inherit-fd gives the task a new pipe whose write end is
# closed, warning once for its fd 0 with the --inherit-fd that would
# connect it: the task reads EOF and ends, having read nothing more;
# restore with --inherit-fd fd[5]:pipe:[INO] and a new pipe on fd 5 gives
# the restored task that pipe: the lines written into it arrive, and
# closing it ends the task (tests/workloads/files_work.c, mode stdin).
source "$(dirname "$0")/_common.sh"
source "$(dirname "$0")/_files.sh"
enter_pidns "$@"
setup_work

D=$WORK/ext
mkdir -p "$D"
coproc FEED { cat; }
# The coprocess's fds are closed in subshells: copies are not.
exec {feed_w}>&"${FEED[1]}" {feed_r}<&"${FEED[0]}"
(
	exec 0<&"$feed_r"
	for f in /proc/$BASHPID/fd/*; do
		f=${f##*/}
		if ((f > 2)); then eval "exec $f>&-"; fi
	done
	exec "$MINICR_TEST_FILES" --mode stdin --dir "$D" >>"$D/log" 2>&1
) &
root=$!
TREES+=("$root")
wait_for_file "$D/ready" 30 || { cat "$D/log" >&2; fail "workload did not get ready"; }
echo "before 1" >&"$feed_w"
echo "before 2" >&"$feed_w"
for ((i = 0; i < 100; i++)); do
	[[ -e "$D/got" && $(wc -l <"$D/got") -ge 2 ]] && break
	sleep 0.05
done
key=$(readlink "/proc/$root/fd/0")
[[ "$key" == pipe:* ]] || fail "the workload's stdin is $key, not a pipe"

files_dump "$root" "$WORK/img"
grep -qF -- "--inherit-fd fd[N]:$key" "$WORK/dump.log" ||
	{ cat "$WORK/dump.log" >&2; fail "the dump does not name $key as external with the --inherit-fd to use"; }
ok "dump names the external pipe: $(grep -F "$key" "$WORK/dump.log" | head -1)"

if "$MINICR" restore -d --inherit-fd "fd[5]:pipe:[1]" "$WORK/img" >"$WORK/restore-bad.log" 2>&1 5</dev/null; then
	fail "restore with a wrong key succeeded"
fi
[[ ! -d /proc/$root ]] || fail "a refused restore left task $root"
ok "a key the images do not have is refused: $(grep -m1 'pipe:\[1\]' "$WORK/restore-bad.log")"

# Images of an older minicr record no pipe part for an external pipe end:
# its capacity is unknown, so it must still be handed in.
cp -a "$WORK/img" "$WORK/img-old"
"$MINICR_DECODE" decode "$WORK/img/files.img" |
	python3 -c 'import json, sys
j = json.load(sys.stdin)
for e in j["entries"]:
    if e["kind"] == "FD_EXTERNAL":
        del e["pipe"]
json.dump(j, sys.stdout)' | "$MINICR_DECODE" encode - -o "$WORK/img-old/files.img" ||
	fail "cannot edit files.img"
"$MINICR_DECODE" seal "$WORK/img-old" >/dev/null || fail "cannot seal the edited set"
if "$MINICR" restore -d "$WORK/img-old" >"$WORK/restore-old.log" 2>&1; then
	fail "restore of an external pipe end without its capacity succeeded"
fi
grep -qF -- "hand it in with --inherit-fd fd[N]:$key" "$WORK/restore-old.log" ||
	{ cat "$WORK/restore-old.log" >&2; fail "restore of old images does not say what to hand in"; }
[[ ! -d /proc/$root ]] || fail "a refused restore left task $root"
ok "without the pipe's capacity (older images) it must be handed in: $(grep -m1 -F "$key" "$WORK/restore-old.log")"

# Without --inherit-fd: the write end is closed, as if the feeder had gone.
"$MINICR" restore -d "$WORK/img" >"$WORK/restore-no.log" 2>&1 ||
	{ cat "$WORK/restore-no.log" >&2; fail "restore without --inherit-fd failed"; }
[[ $(grep -c "was external" "$WORK/restore-no.log") -eq 1 ]] &&
	grep -F "task $root: fd 0 ($key) was external: it gets a new pipe whose other end is closed" "$WORK/restore-no.log" |
	grep -qF -- "--inherit-fd fd[N]:$key would connect it" ||
	{ cat "$WORK/restore-no.log" >&2; fail "restore without --inherit-fd does not warn once for fd 0, naming the --inherit-fd"; }
ok "restore without --inherit-fd: $(grep -F "$key" "$WORK/restore-no.log" | head -1)"
wait_for_file "$D/result" 10 || fail "the workload restored without --inherit-fd did not end at EOF"
files_result "$D"
[[ "$(cat "$D/got")" == $'before 1\nbefore 2' ]] || fail "lines read: $(cat "$D/got" | tr '\n' '|')"
for ((i = 0; i < 100; i++)); do
	[[ -d /proc/$root ]] || break
	sleep 0.05
done
[[ ! -d /proc/$root ]] || fail "the workload restored without --inherit-fd did not exit at EOF"
ok "restored without --inherit-fd, the task read EOF at once and ended"
rm "$D/result"

# A new pipe: python holds its write end, hands the read end to minicr as
# fd 5, writes two lines once the tree runs, then closes it.
python3 - "$MINICR" "$WORK/img" "$key" "$D" <<'PY' || fail "restore with --inherit-fd failed (above)"
import os, subprocess, sys, time
minicr, img, key, d = sys.argv[1:]
r, w = os.pipe()
os.dup2(r, 5)
os.set_inheritable(5, True)
p = subprocess.run([minicr, "restore", "-d", "--inherit-fd", f"fd[5]:{key}", img],
                   pass_fds=(5,), capture_output=True, text=True)
if p.returncode:
    sys.stderr.write(p.stderr)
    sys.exit(1)
os.close(5)
os.close(r)
os.write(w, b"after 1\nafter 2\n")
os.close(w)
for _ in range(200):
    if os.path.exists(d + "/result"):
        break
    time.sleep(0.05)
PY
TREES+=("$root")
wait_for_file "$D/result" 10 || fail "the restored workload did not finish at EOF"
files_result "$D"
want=$'before 1\nbefore 2\nafter 1\nafter 2'
[[ "$(cat "$D/got")" == "$want" ]] || fail "lines read: $(cat "$D/got" | tr '\n' '|'), expected $(echo "$want" | tr '\n' '|')"
ok "the restored task read the lines written into the inherited pipe, then EOF"
exec {feed_w}>&-
say "PASS"
