# A pipe reopened through /proc/self/fd comes back as the same four open
# file descriptions of one pipe: the read end opened again with O_NONBLOCK,
# the write end opened again, one byte queued (kept once). Bytes written
# through either write description are read, in order, through either read
# description. The dump used to refuse it (one pipe2() per pipe at restore).
FLAVORS="host pidns migrate"
WORKLOAD=(/usr/bin/python3 "$CR_DIR/../workloads/pipe_reopen.py" "$S")

ready() { [[ -e $S/ready ]]; }
check_after() {
	local want
	want="r rd
r2 rd nonblock
w wr
w2 wr
one pipe
distinct descriptions
reads b'q' b'1' b'2'
empty r2 would block"
	workload_result "$want" || return 1
	say "a pipe reopened through /proc: four descriptions of one pipe, flags and bytes as they were"
}
