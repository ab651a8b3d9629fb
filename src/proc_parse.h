/* Parsers for /proc files. The *_parse() functions are pure (text in,
 * struct out) so they can be unit-tested on crafted input; the *_read()
 * functions read the file for a PID and call them. */
#ifndef MINICR_PROC_PARSE_H
#define MINICR_PROC_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROC_COMM_LEN 64  /* TASK_COMM_LEN is 16; leave room to grow */

/* /proc/PID/stat, fields named as in proc(5). */
struct proc_stat {
	pid_t pid;
	char comm[PROC_COMM_LEN];
	char state;
	pid_t ppid, pgid, sid;
	int tty_nr;
	unsigned int flags;
	long num_threads;
	unsigned long long start_time;       /* field 22 */
	int exit_signal;                      /* field 38, sent to the parent at exit */
	unsigned long start_code, end_code, start_stack;
	unsigned long start_data, end_data, start_brk;
	unsigned long arg_start, arg_end, env_start, env_end;
	int exit_code;                        /* field 52, wait status of a zombie */
};

int proc_stat_parse(const char *buf, struct proc_stat *st);
/* tid 0 reads /proc/PID/stat, else /proc/PID/task/TID/stat. */
int proc_stat_read(pid_t pid, pid_t tid, struct proc_stat *st);

#define PROC_NS_LEVELS 32

/* The lines of /proc/PID/status that minicr uses. */
struct proc_status {
	pid_t tgid, pid, ppid;
	/* NStgid/NSpid/NSpgid/NSsid: outermost level first; *_nr levels each. */
	pid_t ns_tgid[PROC_NS_LEVELS], ns_pid[PROC_NS_LEVELS];
	pid_t ns_pgid[PROC_NS_LEVELS], ns_sid[PROC_NS_LEVELS];
	int ns_tgid_nr, ns_pid_nr, ns_pgid_nr, ns_sid_nr;
	uint64_t sig_pnd, shd_pnd, sig_blk, sig_ign, sig_cgt;
	uint32_t umask;
	int has_umask;
};

int proc_status_parse(const char *buf, struct proc_status *st);
int proc_status_read(pid_t pid, pid_t tid, struct proc_status *st);

/* Thread IDs of a task, from /proc/PID/task (sorted ascending). */
int proc_threads_read(pid_t pid, pid_t **tids, size_t *nr);
/* Children of one thread, from /proc/PID/task/TID/children. */
int proc_children_read(pid_t pid, pid_t tid, pid_t **kids, size_t *nr);

#endif
