#include "infect.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "log.h"
#include "util.h"

/* Kernel-internal restart codes, visible in ax of an interrupted syscall. */
#define ERESTARTSYS           512
#define ERESTARTNOINTR        513
#define ERESTARTNOHAND        514
#define ERESTART_RESTARTBLOCK 516

void regs_fixup_restart(struct user_regs_struct *regs)
{
	if ((long)regs->orig_rax < 0)
		return;
	switch ((long)regs->rax) {
	case -ERESTARTSYS:
	case -ERESTARTNOINTR:
	case -ERESTARTNOHAND:
		regs->rax = regs->orig_rax;
		regs->rip -= 2;
		break;
	case -ERESTART_RESTARTBLOCK:
		regs->rax = __NR_restart_syscall;
		regs->rip -= 2;
		break;
	}
	/* The kernel must not apply its own restart logic on top. */
	regs->orig_rax = -1;
}

int remote_read(pid_t pid, unsigned long addr, void *buf, size_t len)
{
	struct iovec l = { buf, len }, r = { (void *)addr, len };
	ssize_t n = process_vm_readv(pid, &l, 1, &r, 1, 0);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

int remote_write(pid_t pid, unsigned long addr, const void *buf, size_t len)
{
	struct iovec l = { (void *)buf, len }, r = { (void *)addr, len };
	ssize_t n = process_vm_writev(pid, &l, 1, &r, 1, 0);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

static int scan_syscall(pid_t pid, unsigned long start, unsigned long end, unsigned long *ip)
{
	size_t len = end - start;
	_cleanup_free_ uint8_t *buf = NULL;

	if (len > (16u << 20))
		len = 16u << 20;
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	if (remote_read(pid, start, buf, len))
		return -ENOENT;
	/* Any 0f 05 works: the CPU decodes from wherever ip points. */
	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] == 0x0f && buf[i + 1] == 0x05) {
			*ip = start + i;
			return 0;
		}
	}
	return -ENOENT;
}

int remote_find_syscall(pid_t pid, unsigned long *ip)
{
	_cleanup_free_ char *maps = NULL;
	char path[64], *line, *save = NULL;
	int ret, pass;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	ret = read_file(path, 64u << 20, &maps, NULL);
	if (ret)
		return ret;
	for (pass = 0; pass < 2; pass++) {
		_cleanup_free_ char *copy = strdup(maps);

		if (!copy)
			return -ENOMEM;
		for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			unsigned long s, e;
			char perms[5];

			if (sscanf(line, "%lx-%lx %4s", &s, &e, perms) != 3 || perms[2] != 'x')
				continue;
			if ((pass == 0) != (strstr(line, "[vdso]") != NULL))
				continue;
			if (strstr(line, "[vsyscall]"))
				continue;
			if (!scan_syscall(pid, s, e, ip))
				return 0;
		}
	}
	pr_err("task %d: no syscall instruction found in its executable mappings", pid);
	return -ENOENT;
}

int remote_start(struct remote *r, pid_t pid, pid_t tid, unsigned long sys_ip)
{
	uint64_t all = ~0ULL;
	int ret;

	memset(r, 0, sizeof(*r));
	r->pid = pid;
	r->tid = tid;
	r->sys_ip = sys_ip;
	if (ptrace(PTRACE_GETREGS, tid, NULL, &r->saved) < 0 ||
	    ptrace(PTRACE_GETSIGMASK, tid, sizeof(uint64_t), &r->saved_mask) < 0 ||
	    ptrace(PTRACE_SETOPTIONS, tid, NULL, REMOTE_PTRACE_OPTIONS) < 0 ||
	    ptrace(PTRACE_SETSIGMASK, tid, sizeof(uint64_t), &all) < 0) {
		ret = -errno;
		pr_err("task %d thread %d: cannot prepare for remote calls: %s", pid, tid, errstr(ret));
		return ret;
	}
	return 0;
}

/* Resume with PTRACE_SYSCALL and wait for the next syscall stop. */
static int step_to_syscall_stop(struct remote *r)
{
	int status;

	if (ptrace(PTRACE_SYSCALL, r->tid, NULL, NULL) < 0)
		return -errno;
	for (;;) {
		if (waitpid(r->tid, &status, __WALL) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return -ESRCH;
		if (WIFSTOPPED(status) && WSTOPSIG(status) == (SIGTRAP | 0x80))
			return 0;
		/* A group-stopped thread still has the trap of seize's
		 * PTRACE_INTERRUPT pending (and SIGCONT queues one too): it
		 * reports PTRACE_EVENT_STOP on its way out of the kernel,
		 * before it reaches our syscall. Nothing ran; resume it. */
		if (WIFSTOPPED(status) && status >> 16 == PTRACE_EVENT_STOP) {
			if (ptrace(PTRACE_SYSCALL, r->tid, NULL, NULL) < 0)
				return -errno;
			continue;
		}
		/* Every signal is blocked, so this is a stop we did not ask
		 * for (SIGKILL aside): report it rather than guess. */
		pr_err("task %d thread %d: unexpected stop 0x%x during a remote call",
		       r->pid, r->tid, status);
		return -EIO;
	}
}

long remote_syscall(struct remote *r, long nr, unsigned long a1, unsigned long a2,
		    unsigned long a3, unsigned long a4, unsigned long a5, unsigned long a6)
{
	struct user_regs_struct regs = r->saved;
	int ret;

	regs.rip = r->sys_ip;
	regs.rax = nr;
	regs.orig_rax = -1;
	regs.rdi = a1;
	regs.rsi = a2;
	regs.rdx = a3;
	regs.r10 = a4;
	regs.r8 = a5;
	regs.r9 = a6;
	if (ptrace(PTRACE_SETREGS, r->tid, NULL, &regs) < 0) {
		ret = -errno;
		goto err;
	}
	ret = step_to_syscall_stop(r);     /* entry */
	if (!ret)
		ret = step_to_syscall_stop(r); /* exit */
	if (!ret && ptrace(PTRACE_GETREGS, r->tid, NULL, &regs) < 0)
		ret = -errno;
	if (ret)
		goto err;
	return (long)regs.rax;
err:
	pr_err("task %d thread %d: remote syscall %ld failed: %s", r->pid, r->tid, nr, errstr(ret));
	return ret;
}

int remote_scratch(struct remote *r, size_t len)
{
	long addr;

	addr = remote_syscall(r, __NR_mmap, 0, len, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (addr < 0 && addr > -4096) {
		pr_err("task %d: cannot map scratch memory: %s", r->pid, errstr(addr));
		return addr;
	}
	r->scratch = addr;
	r->scratch_len = len;
	return 0;
}

int remote_end(struct remote *r)
{
	struct user_regs_struct regs;
	int ret = 0;

	if (r->scratch) {
		long m = remote_syscall(r, __NR_munmap, r->scratch, r->scratch_len, 0, 0, 0, 0);

		if (m < 0)
			ret = m;
		r->scratch = 0;
	}
	/* After remote calls the thread sits at a syscall exit, where the
	 * kernel no longer restarts what it had interrupted: do it by hand. */
	regs = r->saved;
	regs_fixup_restart(&regs);
	if (ptrace(PTRACE_SETREGS, r->tid, NULL, &regs) < 0 ||
	    ptrace(PTRACE_SETSIGMASK, r->tid, sizeof(uint64_t), &r->saved_mask) < 0) {
		ret = -errno;
		pr_err("task %d thread %d: cannot restore registers: %s", r->pid, r->tid, errstr(ret));
	}
	return ret;
}
