#!/usr/bin/env bash
# minicr restore of a tree of depth 3 and fanout 3 (40 tasks): with each
# PID method, the same images restored twice (the first restored tree
# killed in between); every task finds its pid, ppid, pgid, sid, comm and
# children again, and the tree equals the one dumped.
source "$(dirname "$0")/_common.sh"
enter_pidns "$@"
setup_work
victim_restore_test tree
say "PASS"
