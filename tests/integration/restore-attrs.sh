#!/usr/bin/env bash
# minicr restore, cwd, umask, rlimits, environment, cmdline, comm and the parent-death
# signal of two tasks with different values.
# With each PID method, the same images are restored twice (the first
# restored tree killed in between); the restored tree equals the one dumped
# and every task checks itself (tests/workloads/victim.c, scenario attrs).
source "$(dirname "$0")/_common.sh"
enter_pidns "$@"
setup_work
victim_restore_test attrs
say "PASS"
