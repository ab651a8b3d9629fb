#include "rst_fork.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

#define NS_LAST_PID "/proc/sys/kernel/ns_last_pid"
#define THREAD_STACK (16u << 10)

/* long rst_clone3_pause(struct clone_args *args, size_t size)
 *
 * clone3() whose child never returns: it loops on pause(). The child shares
 * minicr's address space but has no TLS and a stack nothing else uses, so
 * it must not run C code; the loop touches no memory at all. The parent
 * gets the syscall's result (new TID or -errno). rdi/rsi already hold the
 * syscall's arguments. */
long rst_clone3_pause(struct clone_args *args, size_t size);
__asm__(
	"	.text\n"
	"	.globl rst_clone3_pause\n"
	"	.type rst_clone3_pause, @function\n"
	"rst_clone3_pause:\n"
	"	mov $" "435" ", %eax\n"        /* __NR_clone3 */
	"	syscall\n"
	"	test %rax, %rax\n"
	"	jnz 1f\n"
	"2:	mov $" "34" ", %eax\n"         /* __NR_pause */
	"	syscall\n"
	"	jmp 2b\n"
	"1:	ret\n"
	"	.size rst_clone3_pause, .-rst_clone3_pause\n");

_Static_assert(SYS_clone3 == 435 && SYS_pause == 34, "x86_64 syscall numbers");

int rst_pid_method_parse(const char *s, enum rst_pid_method *m)
{
	if (!strcmp(s, "clone3"))
		*m = RST_PID_CLONE3;
	else if (!strcmp(s, "ns_last_pid"))
		*m = RST_PID_NS_LAST_PID;
	else
		return -EINVAL;
	return 0;
}

const char *rst_pid_method_name(enum rst_pid_method m)
{
	return m == RST_PID_CLONE3 ? "clone3" : "ns_last_pid";
}

bool rst_have_clone3(void)
{
	/* A NULL argument block: EFAULT/EINVAL when the call exists. */
	return syscall(SYS_clone3, NULL, 0) < 0 && errno != ENOSYS;
}

/* Lock ns_last_pid of the caller's PID namespace and set it to id-1, so the
 * next ID allocated there is id (unless someone else forks meanwhile: the
 * caller checks). Returns the locked fd. */
static int ns_last_pid_set(pid_t id)
{
	char buf[16];
	int fd, ret, n;

	fd = open(NS_LAST_PID, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pr_err("cannot open %s for PID %d: %s", NS_LAST_PID, id, errstr(ret));
		return ret;
	}
	if (flock(fd, LOCK_EX) < 0) {
		ret = -errno;
		pr_err("cannot lock %s for PID %d: %s", NS_LAST_PID, id, errstr(ret));
		goto err;
	}
	n = snprintf(buf, sizeof(buf), "%d", id - 1);
	if (write(fd, buf, n) != n) {
		ret = -errno;
		pr_err("cannot write %d to %s: %s", id - 1, NS_LAST_PID, errstr(ret));
		goto err;
	}
	return fd;
err:
	close(fd);
	return ret;
}

static void ns_last_pid_unlock(int fd)
{
	flock(fd, LOCK_UN);
	close(fd);
}

pid_t rst_fork_task(enum rst_pid_method m, pid_t pid, bool new_pidns, bool share_files)
{
	struct clone_args a = { .exit_signal = SIGCHLD };
	pid_t want = pid, child;
	int fd = -1, ret;

	if (new_pidns)
		a.flags |= CLONE_NEWPID;
	if (share_files)
		a.flags |= CLONE_FILES;
	if (m == RST_PID_CLONE3) {
		a.set_tid = (uintptr_t)&want;
		a.set_tid_size = 1;
	} else if (!new_pidns) {
		/* The first task of a new namespace is 1 anyway. */
		fd = ns_last_pid_set(pid);
		if (fd < 0)
			return fd;
	}
	/* A fork-like clone3 (no CLONE_VM): the child returns here on its
	 * own copy of the stack, as from fork(). */
	child = syscall(SYS_clone3, &a, sizeof(a));
	if (child == 0) {
		/* A shared table: the fd is the parent's too, which closes it. */
		if (fd >= 0 && !share_files)
			close(fd);
		/* Got another PID (ns_last_pid raced): the parent kills us. */
		if (getpid() != pid)
			_exit(127);
		return 0;
	}
	if (child < 0) {
		ret = -errno;
		if (ret == -EEXIST)
			pr_err("cannot create task %d: PID %d is taken", pid, pid);
		else
			pr_err("cannot create task %d (%s): %s", pid, rst_pid_method_name(m),
			       errstr(ret));
		goto out;
	}
	/* In a new namespace the parent sees the child's outer PID. */
	if (child != pid && !new_pidns) {
		pr_err("cannot create task %d: got PID %d instead (someone else forked "
		       "meanwhile, or PID %d is taken)", pid, child, pid);
		kill(child, SIGKILL);
		waitpid(child, NULL, __WALL);
		ret = -EEXIST;
		goto out;
	}
	ret = child;
out:
	if (fd >= 0)
		ns_last_pid_unlock(fd);
	return ret;
}

pid_t rst_fork_thread(enum rst_pid_method m, pid_t tid)
{
	struct clone_args a = {
		.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
			 CLONE_SYSVSEM,
	};
	pid_t want = tid;
	void *stack;
	long ret;
	int fd = -1;

	stack = mmap(NULL, THREAD_STACK, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED) {
		ret = -errno;
		pr_err("cannot map a stack for thread %d: %s", tid, errstr(ret));
		return ret;
	}
	a.stack = (uintptr_t)stack;
	a.stack_size = THREAD_STACK;
	if (m == RST_PID_CLONE3) {
		a.set_tid = (uintptr_t)&want;
		a.set_tid_size = 1;
	} else {
		fd = ns_last_pid_set(tid);
		if (fd < 0) {
			ret = fd;
			goto err;
		}
	}
	ret = rst_clone3_pause(&a, sizeof(a));
	if (fd >= 0)
		ns_last_pid_unlock(fd);
	if (ret < 0) {
		if (ret == -EEXIST)
			pr_err("cannot create thread %d: TID %d is taken", tid, tid);
		else
			pr_err("cannot create thread %d (%s): %s", tid, rst_pid_method_name(m),
			       errstr(ret));
		goto err;
	}
	if (ret != tid) {
		/* The stray thread cannot be killed alone; the caller fails
		 * and the whole task is killed. */
		pr_err("cannot create thread %d: got TID %ld instead", tid, ret);
		return -EEXIST;
	}
	return ret;
err:
	munmap(stack, THREAD_STACK);
	return ret;
}
