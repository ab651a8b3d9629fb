/* Internals shared by rst_core.c, rst_sig.c and files.c: one thread of
 * a task being restored, borrowed for remote system calls.
 *
 * Scratch memory for arguments (paths, structs, siginfo) is the SECOND page
 * of the trampoline rst_mem.c leaves mapped read-write: t->tramp + 4096 up
 * to t->tramp + t->tramp_len. The first page holds the syscall instruction
 * and is rst_mem's. Every thread of the task shares it; threads are driven
 * one at a time, so one user at a time. */
#ifndef MINICR_RST_CORE_INT_H
#define MINICR_RST_CORE_INT_H

#include <stddef.h>
#include <sys/types.h>

#include "core.pb-c.h"
#include "infect.h"
#include "rst_state.h"

#define RST_PAGE_SIZE 4096UL

struct rst_call {
	struct remote r;        /* started by rst_call_start(); never remote_end()ed */
	const struct rst_task *t;
	pid_t tid;              /* as minicr sees it: ptrace and /proc */
	unsigned long scratch;
	size_t scratch_len;
};

/* Borrow thread tid of t for remote calls. Its registers and signal mask
 * are not put back afterwards: rst_threads_resume() sets the recorded ones. */
int rst_call_start(struct rst_call *c, const struct rst_task *t, pid_t tid);
/* One remote system call; a failure (a negative errno from the kernel or
 * from driving the thread) is logged as "task P thread T: <what>: <error>". */
long rst_call(struct rst_call *c, const char *what, long nr, unsigned long a1,
	      unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5,
	      unsigned long a6);
/* Copy len bytes to scratch + off; logged. */
int rst_call_put(struct rst_call *c, size_t off, const void *buf, size_t len);
static inline unsigned long rst_scratch(const struct rst_call *c, size_t off)
{
	return c->scratch + off;
}

/* rst_sig.c: flush the signals the restore queued, set every sigaction and
 * queue the shared pending signals, in the leader. */
int rst_sig_task(struct rst_call *c, const CoreEntry *ce);
/* Queue a thread's private pending signals, in that thread. */
int rst_sig_thread(struct rst_call *c, const ThreadCoreEntry *te);

#endif
