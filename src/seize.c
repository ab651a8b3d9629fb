#include "seize.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "infect.h"
#include "log.h"
#include "proc_parse.h"
#include "progress.h"
#include "util.h"

static bool pid_in(const pid_t *arr, size_t nr, pid_t v)
{
	for (size_t i = 0; i < nr; i++)
		if (arr[i] == v)
			return true;
	return false;
}

static int tracer_of(pid_t pid)
{
	_cleanup_free_ char *buf = NULL;
	char path[64];
	const char *p;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (read_file(path, 1 << 16, &buf, NULL))
		return 0;
	p = strstr(buf, "TracerPid:");
	return p ? atoi(p + 10) : 0;
}

/* Wait until a seized and interrupted thread reports its stop. A signal
 * that arrives first is delivered (as it would have been), then the pending
 * interrupt stops the thread. Returns the stop signal (> 0) if it was in
 * group stop, 0 if it was running, -ESRCH if it exited. */
static int wait_stopped(pid_t tid)
{
	int status, sig;

	for (;;) {
		if (waitpid(tid, &status, __WALL) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return -ESRCH;
		if (!WIFSTOPPED(status))
			continue;
		sig = WSTOPSIG(status);
		if (status >> 16 == PTRACE_EVENT_STOP)
			return sig == SIGTRAP ? 0 : sig;
		/* A signal-delivery stop (status >> 16 == 0) or another event:
		 * let it through and wait for our interrupt. */
		if (ptrace(PTRACE_CONT, tid, NULL, status >> 16 ? 0 : (void *)(long)sig) < 0)
			return -errno;
	}
}

/* struct rseq_cs of the rseq ABI. */
struct rseq_cs_abi {
	uint32_t version, flags;
	uint64_t start_ip, post_commit_offset, abort_ip;
};

/* A thread frozen inside an rseq critical section is aborted by the kernel
 * when it next returns to user space. minicr's remote calls make it return
 * elsewhere, where the kernel only drops the critical section, and the ip
 * saved (and dumped) would then go on inside it. So abort it now, as the
 * kernel would: ip to the abort handler, rseq_cs cleared. */
static int rseq_abort_fixup(pid_t pid, pid_t tid)
{
	struct __ptrace_rseq_configuration conf = { 0 };
	struct user_regs_struct regs;
	struct rseq_cs_abi cs;
	uint64_t cs_ptr, zero = 0;
	uint32_t sig;
	int ret;

	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, tid, sizeof(conf), &conf) < 0) {
		ret = -errno;
		goto err;
	}
	/* rseq_cs is the u64 at offset 8 of struct rseq. */
	if (!conf.rseq_abi_pointer ||
	    remote_read(tid, conf.rseq_abi_pointer + 8, &cs_ptr, sizeof(cs_ptr)) || !cs_ptr)
		return 0;
	ret = remote_read(tid, cs_ptr, &cs, sizeof(cs));
	if (ret)
		goto err;
	if (ptrace(PTRACE_GETREGS, tid, NULL, &regs) < 0) {
		ret = -errno;
		goto err;
	}
	if (regs.rip < cs.start_ip || regs.rip - cs.start_ip >= cs.post_commit_offset)
		return 0;
	/* The kernel checks the signature before the abort handler too. */
	ret = remote_read(tid, cs.abort_ip - sizeof(sig), &sig, sizeof(sig));
	if (!ret && sig != conf.signature)
		ret = -EINVAL;
	if (ret)
		goto err;
	regs.rip = cs.abort_ip;
	if (ptrace(PTRACE_SETREGS, tid, NULL, &regs) < 0) {
		ret = -errno;
		goto err;
	}
	ret = remote_write(tid, conf.rseq_abi_pointer + 8, &zero, sizeof(zero));
	if (ret)
		goto err;
	pr_debug("task %d thread %d: frozen in an rseq critical section, aborted to 0x%llx",
		 pid, tid, (unsigned long long)cs.abort_ip);
	return 0;
err:
	pr_err("task %d thread %d: cannot abort its rseq critical section: %s", pid, tid,
	       errstr(ret));
	return ret;
}

/* Seize and interrupt one thread: the stop signal if stopped, 0 running,
 * -ESRCH gone. */
static int seize_thread(pid_t pid, pid_t tid)
{
	int ret;

	if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) < 0) {
		ret = -errno;
		if (ret == -EPERM) {
			int tracer = tracer_of(tid);

			if (tracer)
				pr_err("cannot freeze task %d thread %d: already traced by %d",
				       pid, tid, tracer);
			else
				pr_err("cannot freeze task %d thread %d: %s", pid, tid, errstr(ret));
		} else if (ret != -ESRCH) {
			pr_err("cannot freeze task %d thread %d: %s", pid, tid, errstr(ret));
		}
		return ret;
	}
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0) {
		ret = -errno;
		pr_err("cannot interrupt task %d thread %d: %s", pid, tid, errstr(ret));
		ptrace(PTRACE_DETACH, tid, NULL, NULL);
		return ret;
	}
	ret = wait_stopped(tid);
	if (ret < 0 && ret != -ESRCH)
		pr_err("waiting for task %d thread %d to stop: %s", pid, tid, errstr(ret));
	if (ret >= 0) {
		int fix = rseq_abort_fixup(pid, tid);

		if (fix)
			ret = fix;
	}
	if (ret < 0 && ret != -ESRCH)
		ptrace(PTRACE_DETACH, tid, NULL, NULL);
	return ret;
}

static bool is_zombie_state(char s)
{
	return s == 'Z' || s == 'X' || s == 'x';
}

/* ctx: the dump's struct progress, counting tasks frozen. */
static int seize_freeze(void *ctx, pid_t pid, struct pstree_frozen *out)
{
	pid_t *seized = NULL, *tids = NULL;
	size_t nr_seized = 0, cap = 0, nr_tids;
	struct proc_stat st;
	bool grew;
	int ret;
	LOG_TASK_SCOPE(pid);

	memset(out, 0, sizeof(*out));
	ret = proc_stat_read(pid, 0, &st);
	if (ret)
		return ret == -ENOENT ? -ESRCH : ret;
	out->state = st.state;
	if (is_zombie_state(st.state))
		goto zombie;

	/* Threads can be created by threads not frozen yet: list again until
	 * a pass finds every listed thread already frozen. */
	do {
		grew = false;
		free(tids);
		tids = NULL;
		ret = proc_threads_read(pid, &tids, &nr_tids);
		if (ret) {
			ret = ret == -ENOENT ? -ESRCH : ret;
			goto err;
		}
		for (size_t i = 0; i < nr_tids; i++) {
			if (pid_in(seized, nr_seized, tids[i]))
				continue;
			ret = seize_thread(pid, tids[i]);
			if (ret == -ESRCH || (ret == -EPERM && tids[i] != pid))
				continue;  /* thread exited meanwhile */
			if (ret == -EPERM && !proc_stat_read(pid, 0, &st) && is_zombie_state(st.state)) {
				out->state = st.state;
				goto zombie;
			}
			if (ret < 0)
				goto err;
			if (tids[i] == pid) {
				out->stopped = ret > 0;
				out->stop_signal = ret;
			}
			ret = pid_array_add(&seized, &nr_seized, &cap, tids[i]);
			if (ret)
				goto err;
			grew = true;
		}
	} while (grew);
	free(tids);
	if (!pid_in(seized, nr_seized, pid)) {
		/* The leader exited while other threads lived on. */
		ret = -ESRCH;
		goto err_detach;
	}
	/* Leader first, the rest ascending. */
	for (size_t i = 0; i < nr_seized; i++) {
		if (seized[i] == pid) {
			memmove(&seized[1], &seized[0], i * sizeof(pid_t));
			seized[0] = pid;
			break;
		}
	}
	out->tids = seized;
	out->nr_tids = nr_seized;
	progress_task(ctx);
	return 0;

zombie:
	for (size_t i = 0; i < nr_seized; i++)
		ptrace(PTRACE_DETACH, seized[i], NULL, NULL);
	free(seized);
	free(tids);
	out->tids = malloc(sizeof(pid_t));
	if (!out->tids)
		return -ENOMEM;
	out->tids[0] = pid;
	out->nr_tids = 1;
	out->zombie = true;
	progress_task(ctx);
	return 0;
err:
	free(tids);
err_detach:
	for (size_t i = 0; i < nr_seized; i++)
		ptrace(PTRACE_DETACH, seized[i], NULL, NULL);
	free(seized);
	return ret;
}

static int seize_children(void *ctx, const struct pstree_task *t, pid_t **kids, size_t *nr)
{
	pid_t *all = NULL;
	size_t n = 0, cap = 0;
	int ret = 0;

	(void)ctx;
	for (size_t i = 0; i < t->nr_tids && !ret; i++) {
		_cleanup_free_ pid_t *k = NULL;
		size_t nk = 0;

		ret = proc_children_read(t->pid, t->tids[i], &k, &nk);
		if (ret) {
			pr_err("cannot read children of task %d thread %d: %s",
			       t->pid, t->tids[i], errstr(ret));
			break;
		}
		for (size_t j = 0; j < nk && !ret; j++)
			if (!pid_in(all, n, k[j]))
				ret = pid_array_add(&all, &n, &cap, k[j]);
	}
	if (ret) {
		free(all);
		return ret;
	}
	*kids = all;
	*nr = n;
	return 0;
}

const struct pstree_ops seize_ops = {
	.freeze = seize_freeze,
	.children = seize_children,
};

void seize_release(struct pstree *tree, enum seize_release_mode mode)
{
	size_t left = 0;

	for (size_t i = 0; i < tree->nr_tasks; i++) {
		struct pstree_task *t = tree->tasks[i];

		if (!t->frozen || t->zombie)
			continue;
		if (mode == SEIZE_KILL) {
			kill(t->pid, SIGKILL);
			continue;
		}
		for (size_t j = 0; j < t->nr_tids; j++)
			if (ptrace(PTRACE_DETACH, t->tids[j], NULL, NULL) < 0 && errno != ESRCH)
				pr_warn("cannot detach task %d thread %d: %s",
					t->pid, t->tids[j], strerror(errno));
	}
	if (mode != SEIZE_KILL)
		return;
	/* As tracer we are told of each thread's exit: collect them all, so
	 * the tree is gone when dump returns. In whatever order they come: a
	 * dying PID namespace init (its last thread) waits until every other
	 * task and thread of its namespace is reaped, which ours are not
	 * before we have collected them. */
	for (size_t i = 0; i < tree->nr_tasks; i++)
		if (tree->tasks[i]->frozen && !tree->tasks[i]->zombie)
			left += tree->tasks[i]->nr_tids;
	while (left) {
		int status;

		if (waitpid(-1, &status, __WALL) < 0) {
			if (errno == EINTR)
				continue;
			break;  /* ECHILD: nothing traced is left */
		}
		if (WIFEXITED(status) || WIFSIGNALED(status))
			left--;
	}
}

int seize_check_root(pid_t root, bool kill_after)
{
	struct proc_stat st;
	pid_t p = getpid();
	int ret;

	ret = proc_stat_read(root, 0, &st);
	if (ret) {
		pr_err("no process %d: %s", root, ret == -ENOENT ? "no such process" : errstr(ret));
		return ret == -ENOENT ? -ESRCH : ret;
	}
	/* Killing the init kills its namespace, minicr in it. Left running,
	 * the init of a namespace minicr entered (setns: not its ancestor) is
	 * a tree like any other. */
	if (root == 1 && kill_after) {
		pr_err("refusing to dump PID 1 of minicr's own PID namespace: killing it "
		       "would kill minicr too; --leave-running dumps it and lets it run");
		return -EPERM;
	}
	/* Up to PID 1 included: a minicr that entered the namespace has a
	 * parent outside it, seen as 0. */
	while (p > 0) {
		if (p == root) {
			pr_err("refusing to dump %d: the tree would contain minicr itself (%s)",
			       root, p == getpid() ? "it is minicr" : "it is an ancestor of minicr");
			return -EPERM;
		}
		ret = proc_stat_read(p, 0, &st);
		if (ret)
			break;
		p = st.ppid;
	}
	return 0;
}
