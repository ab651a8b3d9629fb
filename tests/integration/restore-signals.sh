#!/usr/bin/env bash
# minicr restore, signals: handlers with their flags and masks, an ignored signal, the
# blocked mask, a sigaltstack, and pending signals (SIGUSR2, a thread's
# SIGRTMIN+2 with a value, SIGRTMIN+1 queued twice process-wide) delivered
# after unblocking with their si_code, si_pid and si_value, on the altstack.
# With each PID method, the same images are restored twice (the first
# restored tree killed in between); the restored tree equals the one dumped
# and every task checks itself (tests/workloads/victim.c, scenario signals).
source "$(dirname "$0")/_common.sh"
enter_pidns "$@"
setup_work
victim_restore_test signals
say "PASS"
