#!/usr/bin/env bash
# minicr restore, a task with 4 threads: each keeps its TID, name, TLS value and
# blocked mask, and all four counters keep rising.
# With each PID method, the same images are restored twice (the first
# restored tree killed in between); the restored tree equals the one dumped
# and every task checks itself (tests/workloads/victim.c, scenario threads).
source "$(dirname "$0")/_common.sh"
enter_pidns "$@"
setup_work
victim_restore_test threads
say "PASS"
