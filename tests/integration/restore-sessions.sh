#!/usr/bin/env bash
# minicr restore, sessions and groups: a group whose leader has exited, a session whose
# leader has exited (its kids reparented to the root, a child subreaper), a
# live second session, a group in the root's session.
# With each PID method, the same images are restored twice (the first
# restored tree killed in between); the restored tree equals the one dumped
# and every task checks itself (tests/workloads/victim.c, scenario sessions).
source "$(dirname "$0")/_common.sh"
enter_pidns "$@"
setup_work
victim_restore_test sessions
say "PASS"
