# Helpers of the files tests (tests/integration/files-*.sh), sourced after
# _common.sh. The workload is tests/workloads/files_work.c.
: "${MINICR_TEST_FILES:=$MINICR_BUILD_DIR/tests/workloads/minicr-test-files}"
export MINICR_TEST_FILES

# files_start MODE DIR [ARGS...]: start minicr-test-files with every fd
# above 2 closed (the harness may leak some), stdin /dev/null unless
# FILES_STDIN names another source, output appended to DIR/log; wait for
# DIR/ready. Sets FILES_PID (added to TREES).
FILES_PID=
files_start() {
	local mode=$1 d=$2
	shift 2
	[[ -x "$MINICR_TEST_FILES" ]] || fail "missing $MINICR_TEST_FILES (build first)"
	mkdir -p "$d"
	(
		for f in /proc/$BASHPID/fd/*; do
			f=${f##*/}
			if ((f > 2)); then eval "exec $f>&-"; fi
		done
		exec "$MINICR_TEST_FILES" --mode "$mode" --dir "$d" "$@" \
			<"${FILES_STDIN:-/dev/null}" >>"$d/log" 2>&1
	) &
	FILES_PID=$!
	TREES+=("$FILES_PID")
	wait_for_file "$d/ready" 30 || { cat "$d/log" >&2; fail "minicr-test-files --mode $mode did not get ready"; }
}

# files_spawn CMD...: run CMD in the background with every fd above 2
# closed, stdin /dev/null, output to /dev/null. Sets FILES_PID (added to
# TREES).
files_spawn() {
	(
		for f in /proc/$BASHPID/fd/*; do
			f=${f##*/}
			if ((f > 2)); then eval "exec $f>&-"; fi
		done
		exec "$@" </dev/null >/dev/null 2>&1
	) &
	FILES_PID=$!
	TREES+=("$FILES_PID")
}

# files_dump PID IMG: dump the tree (it is killed) and reap it.
files_dump() {
	"$MINICR" dump -D "$2" "$1" >"$WORK/dump.log" 2>&1 ||
		{ cat "$WORK/dump.log" >&2; fail "minicr dump $1 failed"; }
	wait "$1" 2>/dev/null || true
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -d /proc/$1 ]] || return 0
		sleep 0.05
	done
	fail "dumped tree $1 is still there"
}

# files_result DIR: print DIR/result; fail unless it says OK.
files_result() {
	[[ -e "$1/result" ]] || { cat "$1/log" "$WORK/restore.log" >&2 2>/dev/null; fail "no result in $1"; }
	sed 's/^/    /' "$1/result"
	grep -q '^OK ' "$1/result" || { cat "$1/log" >&2; fail "the workload says: $(cat "$1/result")"; }
}
