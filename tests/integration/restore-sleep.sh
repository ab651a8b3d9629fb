#!/usr/bin/env bash
# minicr restore, a task asleep in nanosleep() and one in clock_nanosleep(TIMER_ABSTIME)
# at dump time: after restore each wakes at its deadline (not before, at
# most 1 s after max(deadline, restore time)) and goes on.
# With each PID method, the same images are restored twice (the first
# restored tree killed in between); the restored tree equals the one dumped
# and every task checks itself (tests/workloads/victim.c, scenario sleep).
source "$(dirname "$0")/_common.sh"
enter_pidns "$@"
setup_work
victim_restore_test sleep
say "PASS"
