/* Signal state of a restored task: dispositions and pending signals. The
 * blocked mask is per thread and set by rst_threads_resume(); until then
 * remote_start() keeps every signal blocked in a borrowed thread, so what is
 * queued here stays pending. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include "log.h"
#include "proc_parse.h"
#include "rst_core_int.h"
#include "rst_core_util.h"

static int set_action(struct rst_call *c, int sig, const struct rst_ksigaction *ka,
		      const char *why)
{
	char what[96];
	long r;
	int ret;

	ret = rst_call_put(c, 0, ka, sizeof(*ka));
	if (ret)
		return ret;
	snprintf(what, sizeof(what), "rt_sigaction(%d, handler 0x%llx, flags 0x%llx) %s", sig,
		 (unsigned long long)ka->handler, (unsigned long long)ka->flags, why);
	r = rst_call(c, what, __NR_rt_sigaction, sig, rst_scratch(c, 0), 0, sizeof(uint64_t), 0, 0);
	return r < 0 ? (int)r : 0;
}

/* Copy the siginfo to scratch and queue it from inside the receiving task:
 * the kernel takes a siginfo with si_code >= 0 (SI_USER, kernel codes) or
 * SI_TKILL only when the sender is the target itself. tid 0: shared. */
static int queue_one(struct rst_call *c, const ProtobufCBinaryData *b, long tgid, long tid)
{
	char why[96], what[96];
	int32_t code;
	int signo, ret;
	long r;

	signo = rst_siginfo_signo(b, why, sizeof(why));
	if (signo < 0) {
		pr_err("task %d thread %d: %s", c->t->pid, c->tid, why);
		return signo;
	}
	memcpy(&code, b->data + 8, sizeof(code));   /* si_signo, si_errno, si_code */
	ret = rst_call_put(c, 0, b->data, b->len);
	if (ret)
		return ret;
	if (tid) {
		snprintf(what, sizeof(what), "rt_tgsigqueueinfo(signal %d, si_code %d)", signo, code);
		r = rst_call(c, what, __NR_rt_tgsigqueueinfo, tgid, tid, signo, rst_scratch(c, 0), 0, 0);
	} else {
		snprintf(what, sizeof(what), "rt_sigqueueinfo(signal %d, si_code %d)", signo, code);
		r = rst_call(c, what, __NR_rt_sigqueueinfo, tgid, signo, rst_scratch(c, 0), 0, 0, 0);
	}
	return r < 0 ? (int)r : 0;
}

/* What the kernel says of the created task right now: signals pending in
 * any of its threads or shared, and which are ignored or caught. */
static int sig_state(const struct rst_task *t, uint64_t *pending, uint64_t *ign, uint64_t *cgt)
{
	struct proc_status st;
	int ret;

	*pending = *ign = *cgt = 0;
	for (size_t i = 0; i < t->nr_tids; i++) {
		ret = proc_status_read(t->pid, t->tids[i], &st);
		if (ret) {
			pr_err("task %d thread %d: cannot read its status: %s", t->pid,
			       t->tids[i], errstr(ret));
			return ret;
		}
		*pending |= st.sig_pnd | st.shd_pnd;
		if (i == 0) {
			*ign = st.sig_ign;
			*cgt = st.sig_cgt;
		}
	}
	return 0;
}

int rst_sig_task(struct rst_call *c, const CoreEntry *ce)
{
	struct rst_ksigaction act[RST_NSIG + 1], ign = { 0 };
	uint64_t pending = 0, ign_now = 0, cgt_now = 0;
	char why[96];
	long tgid;
	int ret;

	ret = rst_sigaction_table(ce, act, why, sizeof(why));
	if (ret) {
		pr_err("task %d: %s", c->t->pid, why);
		return ret;
	}
	ret = sig_state(c->t, &pending, &ign_now, &cgt_now);
	if (ret)
		return ret;
	/* Creating the tree queued signals the task never had (SIGCHLD when a
	 * zombie child was made, ...). Setting a signal to SIG_IGN discards
	 * its pending instances in the whole thread group, blocked or not.
	 * Existing zombie children are not reaped by this (only children
	 * exiting while SIGCHLD is ignored are), and every child is stopped.
	 * Each call is a ptrace round trip, so only signals that are pending
	 * or whose disposition differs from the recorded one are touched. */
	ign.handler = (uint64_t)(uintptr_t)SIG_IGN;
	for (int sig = 1; sig <= RST_NSIG; sig++) {
		uint64_t bit = 1ULL << (sig - 1);

		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (pending & bit) {
			ret = set_action(c, sig, &ign, "to flush what the restore queued");
			if (ret)
				return ret;
		}
		if (!(pending & bit) && !((ign_now | cgt_now) & bit) &&
		    act[sig].handler == (uint64_t)(uintptr_t)SIG_DFL)
			continue;
		ret = set_action(c, sig, &act[sig], "as recorded");
		if (ret)
			return ret;
	}
	if (!ce->n_shared_pending)
		return 0;
	/* The task's own PID, as its PID namespace shows it. */
	tgid = rst_call(c, "getpid()", __NR_getpid, 0, 0, 0, 0, 0, 0);
	if (tgid < 0)
		return tgid;
	for (size_t i = 0; i < ce->n_shared_pending; i++) {
		ret = queue_one(c, &ce->shared_pending[i], tgid, 0);
		if (ret)
			return ret;
	}
	pr_debug("task %d: %zu shared pending signals queued", c->t->pid, ce->n_shared_pending);
	return 0;
}

int rst_sig_thread(struct rst_call *c, const ThreadCoreEntry *te)
{
	long tgid, tid;
	int ret;

	if (!te->n_pending)
		return 0;
	tgid = rst_call(c, "getpid()", __NR_getpid, 0, 0, 0, 0, 0, 0);
	if (tgid < 0)
		return tgid;
	tid = rst_call(c, "gettid()", __NR_gettid, 0, 0, 0, 0, 0, 0);
	if (tid < 0)
		return tid;
	for (size_t i = 0; i < te->n_pending; i++) {
		ret = queue_one(c, &te->pending[i], tgid, tid);
		if (ret)
			return ret;
	}
	pr_debug("task %d thread %d: %zu private pending signals queued", c->t->pid, c->tid,
		 te->n_pending);
	return 0;
}
