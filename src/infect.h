/* Remote system calls: make a ptrace-stopped thread execute system calls of
 * minicr's choosing, then put it back exactly as it was.
 *
 * The thread must be seized and in a ptrace stop. remote_start() saves its
 * registers and signal mask and blocks every signal (so nothing is delivered
 * while we borrow it); each remote_syscall() points the instruction pointer
 * at a `syscall` instruction inside the task (found by remote_find_syscall(),
 * or one minicr placed there) and steps it with PTRACE_SYSCALL from entry to
 * exit. remote_end() puts the registers and mask back. Dump uses this to ask
 * a task for state only it can report (sigactions, brk, ...); restore uses it
 * to rebuild a task's address space and kernel state from inside. */
#ifndef MINICR_INFECT_H
#define MINICR_INFECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/user.h>

/* The tracing options of a thread used for remote calls. SUSPEND_SECCOMP:
 * the task's seccomp filters (or strict mode) would kill or fail minicr's
 * calls (mmap, rt_sigaction, ... at dump; everything at restore, where the
 * filters are installed before the last calls). Needs CAP_SYS_ADMIN and
 * minicr itself not under seccomp; cleared by PTRACE_DETACH. */
#define REMOTE_PTRACE_OPTIONS (PTRACE_O_TRACESYSGOOD | PTRACE_O_SUSPEND_SECCOMP)

struct remote {
	pid_t pid;                  /* thread group, for messages and memory access */
	pid_t tid;
	unsigned long sys_ip;       /* address of a syscall instruction (0f 05) */
	struct user_regs_struct saved;
	uint64_t saved_mask;
	unsigned long scratch;      /* remote_scratch() memory, 0 if none */
	size_t scratch_len;
};

/* Find a `syscall` instruction in an executable mapping of pid, [vdso]
 * first. */
int remote_find_syscall(pid_t pid, unsigned long *ip);

int remote_start(struct remote *r, pid_t pid, pid_t tid, unsigned long sys_ip);
/* Returns the raw result: >= 0 or -errno as the kernel returned it; a
 * failure to drive the thread is -errno too and is logged. */
long remote_syscall(struct remote *r, long nr, unsigned long a1, unsigned long a2,
		    unsigned long a3, unsigned long a4, unsigned long a5, unsigned long a6);
/* Map len bytes of anonymous read-write memory in the task for arguments
 * and results; it is unmapped by remote_end(). */
int remote_scratch(struct remote *r, size_t len);
int remote_write(pid_t pid, unsigned long addr, const void *buf, size_t len);
int remote_read(pid_t pid, unsigned long addr, void *buf, size_t len);
/* Restore the saved registers and signal mask. */
int remote_end(struct remote *r);

/* A thread stopped inside an interrupted system call reports -ERESTART* in
 * ax. Before its registers are set again from outside (which bypasses the
 * kernel's own restart handling), rewrite them so that the call restarts
 * when the thread resumes: ax=orig_ax and ip back over the syscall
 * instruction, or restart_syscall for -ERESTART_RESTARTBLOCK. */
void regs_fixup_restart(struct user_regs_struct *regs);

#endif
