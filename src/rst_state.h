/* Rebuilding a created task's state from inside it, by remote system calls
 * (src/infect.h). restore.c creates the whole tree first: every task is a
 * fork of minicr with its recorded PID, session and threads (with their
 * TIDs), all seized and in a ptrace stop. Then, task by task:
 *
 *   rst_mem_restore()   swap minicr's address space for the recorded one:
 *                       drop inherited rseq, map the trampoline, unmap the
 *                       rest, place [vvar]/[vvar_vclock]/[vdso], map every
 *                       VMA, fill pages, PR_SET_MM_MAP (rst_mem.c)
 *   rst_core_restore()  per-task and per-thread kernel state: files, cwd,
 *                       root, umask, rlimits, sigactions, pending signals,
 *                       sigaltstack, rseq, tid address, robust list, comm,
 *                       timers, creds (rst_core.c, timers.c)
 *   rst_mem_finish()    unmap the trampoline: the last remote call
 *   rst_threads_resume() set every thread's registers and FPU state and
 *                       signal mask; restore.c then detaches all tasks.
 *
 * Each returns 0 or -errno and logs what failed for which PID/TID. */
#ifndef MINICR_RST_STATE_H
#define MINICR_RST_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core.pb-c.h"
#include "infect.h"
#include "pstree.pb-c.h"

struct rst_task {
	const PstreeEntry *pe;      /* pid, pgid, sid, threads as recorded */
	CoreEntry *core;            /* NULL for zombies and helpers */
	pid_t pid;                  /* as minicr sees it (not pe->ns_pid in --pidns) */
	pid_t *tids;                /* created threads as minicr sees them, pe->threads order */
	size_t nr_tids;
	unsigned long sys_ip;       /* a syscall instruction usable right now */
	unsigned long tramp;        /* trampoline page (rst_mem), 0 before */
	size_t tramp_len;
	void *mem;                  /* rst_mem.c private data */
	/* VMAs the task filled itself while the tree was built, shared
	 * copy-on-write with its parent or children (src/rst_cow.h); NULL
	 * for none. */
	const struct rst_cow_slot *cow;
};

struct progress;

/* prog counts the bytes of pages written (NULL: not counted). */
int rst_mem_restore(int dirfd, struct rst_task *t, struct progress *prog);
int rst_core_restore(int dirfd, struct rst_task *t);
int rst_mem_finish(struct rst_task *t);
int rst_threads_resume(struct rst_task *t);
/* Free what rst_mem_* kept (shared memory objects are freed once all tasks
 * are done). */
void rst_mem_cleanup(void);
/* Pages written by rst_mem_restore() so far (task pages and shared memory
 * pages), for stats-restore.img. */
uint64_t rst_mem_pages_restored(void);

#endif
