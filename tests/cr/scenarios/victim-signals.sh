# minicr-test-victim --scenario signals (tests/workloads/victim.c):
#   handlers (SA_SIGINFO|SA_ONSTACK...), an ignored signal, a blocked mask,
#   a sigaltstack; pending: SIGUSR2 (thread), SIGRTMIN+2 value 777 (thread),
#   SIGRTMIN+1 queued twice (values 4242 then 4343, process-wide); after
#   unblocking every handler must run once per signal, on the alternate
#   stack, with the right si_code, si_pid and si_value
VICTIM=signals
FLAVORS="host pidns"
source "$CR_DIR/lib/victim.sh"
