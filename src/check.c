#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "infect.h"
#include "log.h"
#include "proc_parse.h"
#include "timers.h"
#include "util.h"

/* A child every probe can look at: it sleeps until killed. */
struct probe_child {
	pid_t pid;
	long value;         /* process_vm_readv reads this from the child */
};

static int check_ns_last_pid(const struct probe_child *c)
{
	char buf[32];
	ssize_t n;
	int fd, ret = 0;

	(void)c;
	fd = open("/proc/sys/kernel/ns_last_pid", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX) < 0)
		ret = -errno;
	/* Writing back the value just read changes nothing. */
	n = ret ? -1 : pread(fd, buf, sizeof(buf) - 1, 0);
	if (!ret && n <= 0)
		ret = n < 0 ? -errno : -EIO;
	if (!ret && pwrite(fd, buf, n, 0) != n)
		ret = -errno;
	close(fd);
	return ret;
}

static int check_clone3_set_tid(const struct probe_child *c)
{
	/* Asking for a PID that is taken: a kernel with set_tid says EEXIST
	 * without creating anything, an older one EINVAL/E2BIG/ENOSYS. */
	pid_t want = c->pid;
	struct clone_args args = {
		.exit_signal = SIGCHLD,
		.set_tid = (unsigned long)&want,
		.set_tid_size = 1,
	};
	long r = syscall(SYS_clone3, &args, sizeof(args));

	if (r == 0)
		_exit(0);  /* cannot happen: the PID is taken */
	if (r > 0) {
		waitpid(r, NULL, 0);
		return -EINVAL;
	}
	return errno == EEXIST ? 0 : -errno;
}

static int seize_probe(const struct probe_child *c, long options)
{
	int status, ret = 0;

	if (ptrace(PTRACE_SEIZE, c->pid, NULL, (void *)options) < 0)
		return -errno;
	if (ptrace(PTRACE_INTERRUPT, c->pid, NULL, NULL) < 0 ||
	    waitpid(c->pid, &status, __WALL) < 0)
		ret = -errno;
	else if (!WIFSTOPPED(status) || status >> 16 != PTRACE_EVENT_STOP)
		ret = -EINVAL;
	ptrace(PTRACE_DETACH, c->pid, NULL, NULL);
	return ret;
}

static int check_ptrace_seize(const struct probe_child *c)
{
	return seize_probe(c, 0);
}

/* Every remote call needs it (infect.h): CAP_SYS_ADMIN, and minicr not
 * under seccomp itself. */
static int check_suspend_seccomp(const struct probe_child *c)
{
	return seize_probe(c, REMOTE_PTRACE_OPTIONS);
}

static int check_pidfd_getfd(const struct probe_child *c)
{
	int pidfd, fd;

	pidfd = syscall(SYS_pidfd_open, c->pid, 0);
	if (pidfd < 0)
		return -errno;
	fd = syscall(SYS_pidfd_getfd, pidfd, 0, 0);
	if (fd < 0) {
		fd = -errno;
		close(pidfd);
		return fd;
	}
	close(fd);
	close(pidfd);
	return 0;
}

static int check_process_vm_readv(const struct probe_child *c)
{
	long v = 0;
	struct iovec local = { &v, sizeof(v) };
	struct iovec remote = { (void *)&c->value, sizeof(v) };

	if (process_vm_readv(c->pid, &local, 1, &remote, 1, 0) != sizeof(v))
		return -errno;
	return v == c->value ? 0 : -EIO;
}

static int check_proc_children(const struct probe_child *c)
{
	_cleanup_free_ pid_t *kids = NULL;
	size_t nr = 0;
	int ret;

	ret = proc_children_read(getpid(), gettid(), &kids, &nr);
	if (ret)
		return ret;
	for (size_t i = 0; i < nr; i++)
		if (kids[i] == c->pid)
			return 0;
	return -ENOENT;
}

static int unix_diag_count(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);

	if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY)
		(*(int *)arg)++;
	return NL_OK;
}

static int check_unix_diag(const struct probe_child *c)
{
	struct unix_diag_req req = {
		.sdiag_family = AF_UNIX,
		.udiag_states = -1,
		.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER,
	};
	struct nl_sock *sk;
	int sv[2], seen = 0, ret;

	(void)c;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	sk = nl_socket_alloc();
	if (!sk) {
		ret = -ENOMEM;
		goto out;
	}
	ret = nl_connect(sk, NETLINK_SOCK_DIAG);
	if (!ret)
		ret = nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, unix_diag_count, &seen);
	if (!ret)
		ret = nl_send_simple(sk, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, &req, sizeof(req));
	if (ret >= 0)
		ret = nl_recvmsgs_default(sk);
	ret = ret < 0 ? -EPROTONOSUPPORT : seen ? 0 : -ENOENT;
	nl_socket_free(sk);
out:
	close(sv[0]);
	close(sv[1]);
	return ret;
}

static int check_timer_ids(const struct probe_child *c)
{
	(void)c;
	return timers_check();
}

static const struct {
	const char *name;
	int (*probe)(const struct probe_child *c);
} checks[] = {
	{ "ns_last_pid writable", check_ns_last_pid },
	{ "clone3 with set_tid", check_clone3_set_tid },
	{ "PTRACE_SEIZE/PTRACE_INTERRUPT", check_ptrace_seize },
	{ "PTRACE_O_SUSPEND_SECCOMP", check_suspend_seccomp },
	{ "pidfd_getfd", check_pidfd_getfd },
	{ "process_vm_readv", check_process_vm_readv },
	{ "/proc/PID/task/TID/children", check_proc_children },
	{ "unix_diag (NETLINK_SOCK_DIAG)", check_unix_diag },
	{ "PR_TIMER_CREATE_RESTORE_IDS", check_timer_ids },
};

int cr_check(void)
{
	struct probe_child c = { .value = 0x6d696e6963720a };
	int missing = 0, status;

	c.pid = fork();
	if (c.pid < 0) {
		pr_err("check: cannot fork a probe child: %s", strerror(errno));
		return -errno;
	}
	if (c.pid == 0) {
		for (;;)
			pause();
	}
	for (size_t i = 0; i < ARRAY_SIZE(checks); i++) {
		int ret = checks[i].probe(&c);

		if (ret) {
			printf("%-32s MISSING (%s)\n", checks[i].name, errstr(ret));
			missing++;
		} else {
			printf("%-32s ok\n", checks[i].name);
		}
	}
	kill(c.pid, SIGKILL);
	waitpid(c.pid, &status, 0);
	if (missing) {
		pr_err("%d kernel feature%s minicr needs %s missing", missing,
		       missing == 1 ? "" : "s", missing == 1 ? "is" : "are");
		return -ENOTSUP;
	}
	printf("Looks good.\n");
	return 0;
}
