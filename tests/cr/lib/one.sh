#!/usr/bin/env bash
# tests/cr/lib/one.sh SCENARIO-FILE FLAVOR: run one scenario in one flavor
# (tests/cr/run calls it under timeout; it can be run by hand as root).
# It re-executes itself as PID 1 of a new PID + mount namespace, so that
# PIDs are fresh and anything left over (a stopped or traced task, a host
# namespace of the migrate flavor) dies with it; an EXIT trap kills by PID
# what the scenario started, deletes its namespaces and scratch directory.
set -euo pipefail

if [[ "${MINICR_CR_IN_NS:-}" != "$1/$2" || $$ -ne 1 ]]; then
	[[ $EUID -eq 0 ]] || { echo "must run as root" >&2; exit 1; }
	export MINICR_CR_IN_NS="$1/$2"
	exec unshare --fork --pid --mount-proc --kill-child=SIGKILL bash "$0" "$@"
fi

CR_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROOT_DIR=$(cd "$CR_DIR/../.." && pwd)
: "${MINICR_BUILD_DIR:=$ROOT_DIR/build}"
: "${MINICR:=$MINICR_BUILD_DIR/src/minicr}"
: "${MINICR_DECODE:=$MINICR_BUILD_DIR/tools/minicr-decode}"
: "${MINICR_TEST_VICTIM:=$MINICR_BUILD_DIR/tests/workloads/minicr-test-victim}"
export MINICR MINICR_DECODE MINICR_TEST_VICTIM

SCENARIO_FILE=$1
SCENARIO=$(basename "$SCENARIO_FILE" .sh)
FLAVOR=$2
ROOT= DUMP_PID=

source "$CR_DIR/lib/common.sh"
source "$CR_DIR/lib/flavors.sh"
source "$CR_DIR/lib/cycle.sh"

S=$(mktemp -d "${TMPDIR:-/tmp}/minicr-cr-$SCENARIO-$FLAVOR.XXXXXX")
cleanup() {
	local rc=$? m
	trap - EXIT
	set +e
	declare -F scenario_cleanup >/dev/null && scenario_cleanup
	cycle_cleanup
	flavor_cleanup
	while read -r m; do
		umount -l "$m" 2>/dev/null
	done < <(awk -v w="$S" 'index($2, w) == 1 { print $2 }' /proc/self/mounts | sort -r)
	rm -rf "$S"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

for b in "$MINICR" "$MINICR_DECODE"; do
	[[ -x "$b" ]] || fail "missing binary $b (build first, or set MINICR_BUILD_DIR)"
done

source "$SCENARIO_FILE"
flavor_setup
if declare -F scenario_main >/dev/null; then
	scenario_main
else
	declare -p WORKLOAD >/dev/null 2>&1 || fail "the scenario defines neither WORKLOAD nor scenario_main"
	cr_cycle
fi
say PASS
