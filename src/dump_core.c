#include "dump_core.h"

#include <cpuid.h>
#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "infect.h"
#include "log.h"
#include "proc_parse.h"
#include "refuse.h"
#include "seccomp.h"
#include "task_attrs.h"
#include "timers.h"
#include "util.h"

#define SIGINFO_SIZE   128
#define KSIGACTION_SIZE 32   /* x86_64 kernel struct sigaction */
#define SCRATCH_SIZE   4096

/* ---- pure: creds lines of /proc/PID/status ---- */

static int parse_u32_list(const char *s, uint32_t *out, size_t max, size_t *nr)
{
	char *end;
	unsigned long v;

	*nr = 0;
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\n' || !*s)
			return 0;
		if (*nr == max)
			return -E2BIG;
		errno = 0;
		v = strtoul(s, &end, 10);
		if (errno || end == s || v > UINT32_MAX || *s == '-')
			return -EINVAL;
		out[(*nr)++] = v;
		s = end;
	}
}

static int parse_x64(const char *s, uint64_t *out)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	errno = 0;
	*out = strtoull(s, &end, 16);
	if (errno || end == s || *s == '-' || (*end && *end != '\n'))
		return -EINVAL;
	return 0;
}

/* Groups: holds up to NGROUPS_MAX entries: size the array by the line. */
static int parse_groups(const char *s, struct proc_creds *c)
{
	const char *nl = strchr(s, '\n');
	size_t len = nl ? (size_t)(nl - s) : strlen(s);
	size_t max = len / 2 + 1;

	c->groups = calloc(max, sizeof(uint32_t));
	if (!c->groups)
		return -ENOMEM;
	return parse_u32_list(s, c->groups, max, &c->nr_groups);
}

int proc_creds_parse(const char *buf, struct proc_creds *c)
{
	static const struct {
		const char *key;
		size_t off;
		int bit;                /* which `seen` bit it sets */
	} caps[] = {
		{ "CapInh:", offsetof(struct proc_creds, cap_inh), 4 },
		{ "CapPrm:", offsetof(struct proc_creds, cap_prm), 8 },
		{ "CapEff:", offsetof(struct proc_creds, cap_eff), 16 },
		{ "CapBnd:", offsetof(struct proc_creds, cap_bnd), 32 },
		{ "CapAmb:", offsetof(struct proc_creds, cap_amb), 64 },
	};
	const char *line = buf;
	unsigned seen = 0;
	size_t n;
	int ret = 0;

	memset(c, 0, sizeof(*c));
	while (line && *line && !ret) {
		const char *nl = strchr(line, '\n');

		if (!strncmp(line, "Uid:", 4)) {
			ret = parse_u32_list(line + 4, c->uid, 4, &n);
			if (!ret && n != 4)
				ret = -EINVAL;
			seen |= 1;
		} else if (!strncmp(line, "Gid:", 4)) {
			ret = parse_u32_list(line + 4, c->gid, 4, &n);
			if (!ret && n != 4)
				ret = -EINVAL;
			seen |= 2;
		} else if (!strncmp(line, "Groups:", 7)) {
			if (c->groups)
				ret = -EINVAL;
			else
				ret = parse_groups(line + 7, c);
		} else if (!strncmp(line, "NoNewPrivs:", 11)) {
			uint64_t v;

			ret = parse_x64(line + 11, &v);
			if (!ret && v > 1)
				ret = -EINVAL;
			c->no_new_privs = v;
			c->has_no_new_privs = 1;
		} else {
			for (unsigned i = 0; i < ARRAY_SIZE(caps); i++) {
				if (strncmp(line, caps[i].key, strlen(caps[i].key)))
					continue;
				ret = parse_x64(line + strlen(caps[i].key),
						(uint64_t *)((char *)c + caps[i].off));
				seen |= caps[i].bit;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	c->has_cap_amb = !!(seen & 64);
	if (!ret && (seen & 63) != 63)
		ret = -EINVAL;
	if (ret)
		proc_creds_free(c);
	return ret;
}

void proc_creds_free(struct proc_creds *c)
{
	free(c->groups);
	c->groups = NULL;
	c->nr_groups = 0;
}

/* ---- reading a frozen thread from outside ---- */

static int read_comm(pid_t pid, pid_t tid, char **comm)
{
	char path[64];
	size_t len;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, tid);
	ret = read_file(path, 4096, comm, &len);
	if (ret) {
		pr_err("task %d thread %d: cannot read %s: %s", pid, tid, path, errstr(ret));
		return ret;
	}
	if (len && (*comm)[len - 1] == '\n')
		(*comm)[len - 1] = '\0';
	return 0;
}

static int read_link(pid_t pid, const char *what, char **out)
{
	char path[64], buf[PATH_MAX];
	ssize_t n;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, what);
	n = readlink(path, buf, sizeof(buf));
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		ret = n < 0 ? -errno : -ENAMETOOLONG;
		pr_err("task %d: cannot read link %s: %s", pid, path, errstr(ret));
		return ret;
	}
	*out = strndup(buf, n);
	return *out ? 0 : -ENOMEM;
}

/* A cwd removed after the task entered it reads "PATH (deleted)" and has
 * no links: record PATH and the mode, so restore can make such a directory
 * again instead of failing on chdir(). */
static int dump_cwd_deleted(pid_t pid, CoreEntry *ce)
{
	static const char suffix[] = " (deleted)";
	size_t n = strlen(ce->cwd), sl = sizeof(suffix) - 1;
	char path[64];
	struct stat st;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/cwd", pid);
	if (stat(path, &st) < 0) {
		ret = -errno;
		pr_err("task %d: cannot stat its cwd %s: %s", pid, ce->cwd, errstr(ret));
		return ret;
	}
	if (st.st_nlink)
		return 0;
	if (n <= sl || strcmp(ce->cwd + n - sl, suffix) || ce->cwd[0] != '/') {
		pr_err("task %d: its cwd has no links but its path %s does not say deleted",
		       pid, ce->cwd);
		return -EINVAL;
	}
	ce->cwd[n - sl] = '\0';
	ce->has_cwd_deleted_mode = 1;
	ce->cwd_deleted_mode = st.st_mode;
	ce->has_cwd_deleted_uid = ce->has_cwd_deleted_gid = 1;
	ce->cwd_deleted_uid = st.st_uid;
	ce->cwd_deleted_gid = st.st_gid;
	return 0;
}

static int dump_regs(pid_t pid, pid_t tid, ThreadCoreEntry *te)
{
	struct user_regs_struct r;
	UserRegsEntry *e;
	int ret;

	if (ptrace(PTRACE_GETREGS, tid, NULL, &r) < 0) {
		ret = -errno;
		pr_err("task %d thread %d: PTRACE_GETREGS: %s", pid, tid, errstr(ret));
		return ret;
	}
	e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	user_regs_entry__init(e);
	e->r15 = r.r15; e->r14 = r.r14; e->r13 = r.r13; e->r12 = r.r12;
	e->bp = r.rbp; e->bx = r.rbx; e->r11 = r.r11; e->r10 = r.r10;
	e->r9 = r.r9; e->r8 = r.r8; e->ax = r.rax; e->cx = r.rcx;
	e->dx = r.rdx; e->si = r.rsi; e->di = r.rdi; e->orig_ax = r.orig_rax;
	e->ip = r.rip; e->cs = r.cs; e->flags = r.eflags; e->sp = r.rsp;
	e->ss = r.ss; e->fs_base = r.fs_base; e->gs_base = r.gs_base;
	e->ds = r.ds; e->es = r.es; e->fs = r.fs; e->gs = r.gs;
	te->regs = e;
	return 0;
}

/* The kernel silently truncates the regset to the iovec, so start from the
 * largest size the CPU may need and grow while the kernel fills it all. */
static int dump_xstate(pid_t pid, pid_t tid, ThreadCoreEntry *te)
{
	unsigned int a = 0, b = 0, c = 0, d = 0;
	size_t size = 16384;
	struct iovec iov;
	uint8_t *buf;
	int ret;

	if (__get_cpuid_count(0xd, 0, &a, &b, &c, &d) && c > size)
		size = (c + 4095) & ~4095u;
	for (;;) {
		buf = malloc(size);
		if (!buf)
			return -ENOMEM;
		iov.iov_base = buf;
		iov.iov_len = size;
		if (ptrace(PTRACE_GETREGSET, tid, NT_X86_XSTATE, &iov) < 0) {
			ret = -errno;
			free(buf);
			pr_err("task %d thread %d: PTRACE_GETREGSET NT_X86_XSTATE: %s",
			       pid, tid, errstr(ret));
			return ret;
		}
		if (iov.iov_len < size)
			break;
		free(buf);
		if (size >= (1u << 20)) {
			pr_err("task %d thread %d: xstate larger than 1 MiB", pid, tid);
			return -E2BIG;
		}
		size *= 2;
	}
	te->has_xstate = 1;
	te->xstate.data = buf;
	te->xstate.len = iov.iov_len;
	return 0;
}

static int dump_rseq(pid_t pid, pid_t tid, ThreadCoreEntry *te)
{
	struct __ptrace_rseq_configuration conf = { 0 };
	RseqEntry *e;
	int ret;

	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, tid, sizeof(conf), &conf) < 0) {
		ret = -errno;
		pr_err("task %d thread %d: PTRACE_GET_RSEQ_CONFIGURATION: %s",
		       pid, tid, errstr(ret));
		return ret;
	}
	if (!conf.rseq_abi_pointer)
		return 0;
	e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	rseq_entry__init(e);
	e->ptr = conf.rseq_abi_pointer;
	e->len = conf.rseq_abi_size;
	e->signature = conf.signature;
	te->rseq = e;
	return 0;
}

int peek_siginfo(pid_t pid, pid_t tid, bool shared,
			ProtobufCBinaryData **out, size_t *nr)
{
	uint8_t batch[32][SIGINFO_SIZE];
	ProtobufCBinaryData *arr = NULL, *na;
	size_t n = 0;
	long got;
	int ret;

	for (;;) {
		struct __ptrace_peeksiginfo_args args = {
			.off = n,
			.flags = shared ? PTRACE_PEEKSIGINFO_SHARED : 0,
			.nr = ARRAY_SIZE(batch),
		};

		got = ptrace(PTRACE_PEEKSIGINFO, tid, &args, batch);
		if (got < 0) {
			ret = -errno;
			pr_err("task %d thread %d: PTRACE_PEEKSIGINFO (%s queue): %s",
			       pid, tid, shared ? "shared" : "private", errstr(ret));
			goto err;
		}
		if (got == 0)
			break;
		na = realloc(arr, (n + got) * sizeof(*arr));
		if (!na) {
			ret = -ENOMEM;
			goto err;
		}
		arr = na;
		for (long i = 0; i < got; i++) {
			arr[n].data = malloc(SIGINFO_SIZE);
			if (!arr[n].data) {
				ret = -ENOMEM;
				goto err;
			}
			memcpy(arr[n].data, batch[i], SIGINFO_SIZE);
			arr[n++].len = SIGINFO_SIZE;
		}
	}
	*out = arr;
	*nr = n;
	return 0;
err:
	for (size_t i = 0; i < n; i++)
		free(arr[i].data);
	free(arr);
	return ret;
}

static int dump_robust_list(pid_t pid, pid_t tid, ThreadCoreEntry *te)
{
	unsigned long head = 0;
	size_t len = 0;
	int ret;

	if (syscall(SYS_get_robust_list, tid, &head, &len) < 0) {
		ret = -errno;
		pr_err("task %d thread %d: get_robust_list: %s", pid, tid, errstr(ret));
		return ret;
	}
	te->has_robust_list = te->has_robust_list_len = 1;
	te->robust_list = head;
	te->robust_list_len = len;
	return 0;
}

static int dump_creds(pid_t pid, pid_t tid, ThreadCoreEntry *te, int *no_new_privs)
{
	_cleanup_free_ char *buf = NULL;
	struct proc_creds pc;
	CredsEntry *e;
	char path[64];
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	ret = read_file(path, 1 << 20, &buf, NULL);
	if (!ret)
		ret = proc_creds_parse(buf, &pc);
	if (ret) {
		pr_err("task %d thread %d: cannot read creds from %s: %s",
		       pid, tid, path, errstr(ret));
		return ret;
	}
	e = malloc(sizeof(*e));
	if (!e) {
		proc_creds_free(&pc);
		return -ENOMEM;
	}
	creds_entry__init(e);
	e->uid = pc.uid[0]; e->euid = pc.uid[1]; e->suid = pc.uid[2]; e->fsuid = pc.uid[3];
	e->gid = pc.gid[0]; e->egid = pc.gid[1]; e->sgid = pc.gid[2]; e->fsgid = pc.gid[3];
	e->groups = pc.groups;          /* ownership moves to the entry */
	e->n_groups = pc.nr_groups;
	e->has_cap_inh = e->has_cap_prm = e->has_cap_eff = e->has_cap_bnd = 1;
	e->cap_inh = pc.cap_inh;
	e->cap_prm = pc.cap_prm;
	e->cap_eff = pc.cap_eff;
	e->cap_bnd = pc.cap_bnd;
	e->has_cap_amb = pc.has_cap_amb;
	e->cap_amb = pc.cap_amb;
	te->creds = e;
	if (no_new_privs)
		*no_new_privs = pc.has_no_new_privs ? pc.no_new_privs : -1;
	return 0;
}

/* ---- asking the thread itself (remote system calls) ---- */

int remote_get(struct remote *r, const char *what, long nr, unsigned long a1,
		      unsigned long a2, unsigned long a3, unsigned long a4,
		      void *res, size_t len)
{
	long ret = remote_syscall(r, nr, a1, a2, a3, a4, 0, 0);

	if (ret >= 0)
		ret = remote_read(r->pid, r->scratch, res, len);
	if (ret < 0)
		pr_err("task %d thread %d: remote %s: %s", r->pid, r->tid, what, errstr(ret));
	return ret < 0 ? (int)ret : 0;
}

static int remote_thread_state(struct remote *r, ThreadCoreEntry *te)
{
	struct { uint64_t sp; int32_t flags; int32_t pad; uint64_t size; } ss;
	SigaltstackEntry *e;
	uint64_t tid_addr;
	int ret;

	ret = remote_get(r, "sigaltstack", __NR_sigaltstack, 0, r->scratch, 0, 0,
			 &ss, sizeof(ss));
	if (ret)
		return ret;
	e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	sigaltstack_entry__init(e);
	e->sp = ss.sp;
	e->flags = ss.flags;
	e->size = ss.size;
	te->sigaltstack = e;

	ret = remote_get(r, "prctl(PR_GET_TID_ADDRESS)", __NR_prctl, PR_GET_TID_ADDRESS,
			 r->scratch, 0, 0, &tid_addr, sizeof(tid_addr));
	if (ret)
		return ret;
	te->has_clear_tid_addr = 1;
	te->clear_tid_addr = tid_addr;
	return 0;
}

/* Asked of the task itself: prlimit() on another task needs
 * CAP_SYS_RESOURCE (or the same uids), which minicr may lack. */
static int remote_rlimits(struct remote *r, CoreEntry *ce)
{
	ce->rlimits = calloc(RLIM_NLIMITS, sizeof(*ce->rlimits));
	if (!ce->rlimits)
		return -ENOMEM;
	for (int res = 0; res < RLIM_NLIMITS; res++) {
		struct rlimit rl;
		RlimitEntry *e;
		char what[32];
		int ret;

		snprintf(what, sizeof(what), "prlimit64(%d)", res);
		ret = remote_get(r, what, __NR_prlimit64, 0, res, 0, r->scratch, &rl, sizeof(rl));
		if (ret)
			return ret;
		e = malloc(sizeof(*e));
		if (!e)
			return -ENOMEM;
		rlimit_entry__init(e);
		e->resource = res;
		e->cur = rl.rlim_cur;
		e->max = rl.rlim_max;
		ce->rlimits[ce->n_rlimits++] = e;
	}
	return 0;
}

static int remote_task_state(struct remote *r, CoreEntry *ce)
{
	struct { uint64_t handler, flags, restorer, mask; } ka;
	uint32_t v;
	int ret;

	ce->sigactions = calloc(_NSIG, sizeof(*ce->sigactions));
	if (!ce->sigactions)
		return -ENOMEM;
	for (int sig = 1; sig < _NSIG; sig++) {
		SigactionEntry *e;
		char what[48];

		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		snprintf(what, sizeof(what), "rt_sigaction(%d)", sig);
		ret = remote_get(r, what, __NR_rt_sigaction, sig, 0, r->scratch, 8,
				 &ka, sizeof(ka));
		if (ret)
			return ret;
		if (ka.handler == (uint64_t)(uintptr_t)SIG_DFL)
			continue;
		e = malloc(sizeof(*e));
		if (!e)
			return -ENOMEM;
		sigaction_entry__init(e);
		e->sig = sig;
		e->handler = ka.handler;
		e->flags = ka.flags;
		e->has_restorer = 1;
		e->restorer = ka.restorer;
		e->mask = ka.mask;
		ce->sigactions[ce->n_sigactions++] = e;
	}

	ret = remote_get(r, "prctl(PR_GET_CHILD_SUBREAPER)", __NR_prctl,
			 PR_GET_CHILD_SUBREAPER, r->scratch, 0, 0, &v, sizeof(v));
	if (ret)
		return ret;
	ce->has_child_subreaper = 1;
	ce->child_subreaper = v != 0;

	ret = remote_get(r, "prctl(PR_GET_PDEATHSIG)", __NR_prctl, PR_GET_PDEATHSIG,
			 r->scratch, 0, 0, &v, sizeof(v));
	if (ret)
		return ret;
	ce->has_pdeath_signal = 1;
	ce->pdeath_signal = v;
	return remote_rlimits(r, ce);
}

/* One remote session in the thread; the task-wide calls go in the leader's.
 * remote_end() runs whatever happened, so the thread is left as found. */
static int remote_state(pid_t pid, pid_t tid, unsigned long sys_ip,
			ThreadCoreEntry *te, CoreEntry *leader_ce)
{
	struct remote r;
	int ret, end;

	ret = remote_start(&r, pid, tid, sys_ip);
	if (ret)
		return ret;
	ret = remote_scratch(&r, SCRATCH_SIZE);
	if (!ret)
		ret = remote_thread_state(&r, te);
	if (!ret)
		ret = attrs_dump_thread(&r, te);
	if (!ret && leader_ce)
		ret = remote_task_state(&r, leader_ce);
	if (!ret && leader_ce)
		ret = attrs_dump_task(&r, leader_ce);
	end = remote_end(&r);
	return ret ? ret : end;
}

static int dump_thread(pid_t pid, pid_t tid, unsigned long sys_ip,
		       ThreadCoreEntry *te, CoreEntry *leader_ce)
{
	int nnp = -1, ret;

	te->tid = tid;
	ret = read_comm(pid, tid, &te->comm);
	if (!ret)
		ret = dump_regs(pid, tid, te);
	if (!ret)
		ret = dump_xstate(pid, tid, te);
	if (ret)
		return ret;
	/* Before remote_start(), which blocks every signal. */
	if (ptrace(PTRACE_GETSIGMASK, tid, sizeof(uint64_t), &te->blocked) < 0) {
		ret = -errno;
		pr_err("task %d thread %d: PTRACE_GETSIGMASK: %s", pid, tid, errstr(ret));
		return ret;
	}
	te->has_blocked = 1;
	ret = dump_rseq(pid, tid, te);
	if (!ret)
		ret = peek_siginfo(pid, tid, false, &te->pending, &te->n_pending);
	if (!ret)
		ret = dump_robust_list(pid, tid, te);
	if (!ret)
		ret = dump_creds(pid, tid, te, &nnp);
	if (!ret)
		ret = remote_state(pid, tid, sys_ip, te, leader_ce);
	if (!ret && nnp >= 0) {
		te->has_no_new_privs = 1;
		te->no_new_privs = nnp;
	}
	if (!ret && leader_ce && nnp >= 0) {
		leader_ce->has_no_new_privs = 1;
		leader_ce->no_new_privs = nnp;
	}
	return ret;
}

/* The collectors refuse with -EOPNOTSUPP after logging what and why:
 * counted, and collecting goes on so that the dump lists every refusal. */
static int refused(struct refusals *r, int ret)
{
	if (ret != -EOPNOTSUPP)
		return ret;
	refuse_counted(r);
	return 0;
}

int dump_core_fill(const struct pstree_task *t, CoreEntry *ce, struct refusals *r)
{
	struct proc_status st;
	unsigned long sys_ip;
	int ret;

	if (t->zombie)
		return 0;
	ret = proc_status_read(t->pid, 0, &st);
	if (ret) {
		pr_err("task %d: cannot read /proc/%d/status: %s", t->pid, t->pid, errstr(ret));
		return ret;
	}
	if (!st.has_umask) {
		pr_err("task %d: no Umask: line in /proc/%d/status", t->pid, t->pid);
		return -EINVAL;
	}
	ce->has_umask = 1;
	ce->umask = st.umask;
	if (t->stopped && t->stop_signal) {
		ce->has_stop_signal = 1;
		ce->stop_signal = t->stop_signal;
	}
	ret = read_link(t->pid, "cwd", &ce->cwd);
	if (!ret)
		ret = dump_cwd_deleted(t->pid, ce);
	if (!ret)
		ret = read_link(t->pid, "root", &ce->root);
	if (!ret)
		ret = peek_siginfo(t->pid, t->pid, true, &ce->shared_pending, &ce->n_shared_pending);
	if (!ret)
		ret = remote_find_syscall(t->pid, &sys_ip);
	if (ret)
		return ret;

	ce->threads = calloc(t->nr_tids, sizeof(*ce->threads));
	if (!ce->threads)
		return -ENOMEM;
	for (size_t i = 0; i < t->nr_tids; i++) {
		ThreadCoreEntry *te = malloc(sizeof(*te));

		if (!te)
			return -ENOMEM;
		thread_core_entry__init(te);
		ce->threads[ce->n_threads++] = te;
		/* tids[0] is the leader (seize.c). */
		ret = refused(r, dump_thread(t->pid, t->tids[i], sys_ip, te, i == 0 ? ce : NULL));
		if (!ret)
			ret = refused(r, seccomp_dump_thread(t->pid, t->tids[i], ce, te));
		if (ret)
			return ret;
	}
	ret = refused(r, seccomp_dump_task(t->pid, ce));
	/* Last: it takes the timers' signals out of the pending lists. */
	return ret ? ret : refused(r, timers_dump(t, sys_ip, ce));
}

static void free_blobs(ProtobufCBinaryData *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(b[i].data);
	free(b);
}

void dump_core_free(CoreEntry *ce)
{
	seccomp_dump_free(ce);
	for (size_t i = 0; i < ce->n_threads; i++) {
		ThreadCoreEntry *te = ce->threads[i];

		free(te->comm);
		free(te->regs);
		free(te->xstate.data);
		free(te->sigaltstack);
		free(te->rseq);
		free_blobs(te->pending, te->n_pending);
		if (te->creds)
			free(te->creds->groups);
		free(te->creds);
		attrs_free_thread(te);
		free(te);
	}
	free(ce->threads);
	ce->threads = NULL;
	ce->n_threads = 0;
	for (size_t i = 0; i < ce->n_sigactions; i++)
		free(ce->sigactions[i]);
	free(ce->sigactions);
	ce->sigactions = NULL;
	ce->n_sigactions = 0;
	free_blobs(ce->shared_pending, ce->n_shared_pending);
	ce->shared_pending = NULL;
	ce->n_shared_pending = 0;
	for (size_t i = 0; i < ce->n_rlimits; i++)
		free(ce->rlimits[i]);
	free(ce->rlimits);
	ce->rlimits = NULL;
	ce->n_rlimits = 0;
	free(ce->cwd);
	free(ce->root);
	ce->cwd = ce->root = NULL;
	timers_free(ce);
	attrs_free_task(ce);
}
