#!/usr/bin/env bash
# minicr restore, memory: 256 MiB of patterned anonymous memory (checksum, untouched
# hole), a modified MAP_PRIVATE file mapping, MAP_SHARED anonymous memory
# written by a child after restore and seen by its parent (and back),
# PROT_READ and PROT_NONE regions, a heap grown by 8 MiB.
# With each PID method, the same images are restored twice (the first
# restored tree killed in between); the restored tree equals the one dumped
# and every task checks itself (tests/workloads/victim.c, scenario memory).
source "$(dirname "$0")/_common.sh"
enter_pidns "$@"
setup_work
victim_restore_test memory
say "PASS"
