#!/usr/bin/env bash
# minicr restore, two zombies (exit code 7, killed by SIGTERM) that the root reaps after
# restore with waitpid, getting the same status; and a task stopped by
# SIGSTOP that is still stopped after restore and goes on with SIGCONT.
# With each PID method, the same images are restored twice (the first
# restored tree killed in between); the restored tree equals the one dumped
# and every task checks itself (tests/workloads/victim.c, scenario zombies).
source "$(dirname "$0")/_common.sh"
enter_pidns "$@"
setup_work
victim_restore_test zombies
say "PASS"
