/* Per-task and per-thread kernel state of a restored task (rst_state.h):
 * everything is set from inside the task by remote system calls in the
 * thread it belongs to, except rlimits (prlimit() from minicr) and the
 * final registers, FPU state and signal mask (ptrace).
 *
 * Order, and why:
 *   leader:  files (with RLIMIT_NOFILE opened up to its hard limit, so a
 *            high recorded fd number fits), cwd, root (after both: the
 *            recorded paths are as minicr sees them, and the task still
 *            shares minicr's root), umask, rlimits (before the creds: prlimit
 *            on another task needs its uids to be minicr's), the seccomp
 *            filters all threads share (seccomp.h: before no_new_privs,
 *            which TSYNC would spread), personality,
 *            child_subreaper, signals (flush, sigactions, shared pending);
 *   threads: comm, sigaltstack, rseq, tid address, robust list, private
 *            pending signals, timers (timers.c: after every signal, so the
 *            timers' own queued signals come last and are not flushed),
 *            attributes, no_new_privs (a thread flag: the threads exist
 *            already and inherit nothing now), the thread's own seccomp
 *            filters or strict mode (they need
 *            CAP_SYS_ADMIN), creds last (they may drop the capabilities the
 *            calls before need); non-leader threads first;
 *   leader:  the same, then pdeath_signal, which the kernel clears when
 *            the creds change the euid/egid/fsuid/fsgid.
 * Threads are never handed back with remote_end(): their registers, FPU
 * state and mask come from the image in rst_threads_resume(). Arguments go
 * through the trampoline's second page (rst_core_int.h). */
#include "rst_state.h"

#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>

#include "files.h"
#include "log.h"
#include "rst_core_int.h"
#include "rst_core_util.h"
#include "seccomp.h"
#include "task_attrs.h"
#include "timers.h"
#include "util.h"

/* ---- remote calls in one thread ---- */

int rst_call_start(struct rst_call *c, const struct rst_task *t, pid_t tid)
{
	memset(c, 0, sizeof(*c));
	c->t = t;
	c->tid = tid;
	if (!t->sys_ip || !t->tramp || t->tramp_len < 2 * RST_PAGE_SIZE) {
		pr_err("task %d thread %d: no trampoline with a scratch page to restore its state "
		       "(tramp 0x%lx, %zu bytes, syscall at 0x%lx)",
		       t->pid, tid, t->tramp, t->tramp_len, t->sys_ip);
		return -EINVAL;
	}
	c->scratch = t->tramp + RST_PAGE_SIZE;
	c->scratch_len = t->tramp_len - RST_PAGE_SIZE;
	return remote_start(&c->r, t->pid, tid, t->sys_ip);   /* logs */
}

long rst_call(struct rst_call *c, const char *what, long nr, unsigned long a1,
	      unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5,
	      unsigned long a6)
{
	long r = remote_syscall(&c->r, nr, a1, a2, a3, a4, a5, a6);

	if (r < 0 && r >= -4095)
		pr_err("task %d thread %d: %s: %s", c->t->pid, c->tid, what, errstr((int)r));
	return r;
}

int rst_call_put(struct rst_call *c, size_t off, const void *buf, size_t len)
{
	int ret;

	if (off > c->scratch_len || len > c->scratch_len - off) {
		pr_err("task %d thread %d: %zu bytes at offset %zu do not fit the %zu bytes of "
		       "scratch memory", c->t->pid, c->tid, len, off, c->scratch_len);
		return -E2BIG;
	}
	ret = remote_write(c->t->pid, c->scratch + off, buf, len);
	if (ret)
		pr_err("task %d thread %d: cannot write to scratch memory at 0x%lx (the "
		       "trampoline's second page, which must be read-write): %s",
		       c->t->pid, c->tid, c->scratch + off, errstr(ret));
	return ret;
}

/* A NUL-terminated path into scratch, then call nr(scratch). */
static int call_path(struct rst_call *c, const char *what, long nr, const char *path)
{
	char msg[PATH_MAX + 32];
	long r;
	int ret;

	ret = rst_call_put(c, 0, path, strlen(path) + 1);
	if (ret)
		return ret;
	snprintf(msg, sizeof(msg), "%s(\"%s\")", what, path);
	r = rst_call(c, msg, nr, rst_scratch(c, 0), 0, 0, 0, 0, 0);
	return r < 0 ? (int)r : 0;
}

/* ---- per task, in the leader ---- */

/* A cwd that was a removed directory: make a directory in its old parent
 * under its old name (a temporary one if that is taken again), its mode,
 * let the task enter it and remove it, so the task's cwd is an unlinked
 * directory again (getcwd() fails with ENOENT, /proc/PID/cwd says
 * "(deleted)"). The task still shares minicr's root here, so minicr's paths
 * are the task's. Without the parent there is nowhere to make it: refused. */
static int chdir_deleted(struct rst_call *c, const CoreEntry *ce)
{
	char parent[PATH_MAX], tmp[PATH_MAX];
	const char *slash = strrchr(ce->cwd, '/');
	size_t plen = slash ? (size_t)(slash - ce->cwd) : 0;
	struct stat st;
	int ret;

	if (!slash || plen >= sizeof(parent)) {
		pr_err("task %d: deleted cwd %s has no parent directory", c->t->pid, ce->cwd);
		return -EINVAL;
	}
	memcpy(parent, ce->cwd, plen);
	parent[plen] = '\0';
	if (!plen)
		strcpy(parent, "/");
	if (stat(parent, &st) < 0 || !S_ISDIR(st.st_mode)) {
		ret = stat(parent, &st) < 0 ? -errno : -ENOTDIR;
		pr_err("task %d: its cwd was the deleted directory %s, whose parent %s is gone: "
		       "cannot make it again: %s", c->t->pid, ce->cwd, parent, errstr(ret));
		return ret;
	}
	ret = files_remake_dir(ce->cwd, (unsigned)c->t->pid, tmp, sizeof(tmp));
	if (ret) {
		pr_err("task %d: cannot make a directory in %s for its deleted cwd %s: %s",
		       c->t->pid, parent, ce->cwd, errstr(ret));
		return ret;
	}
	/* chown before chmod, which it would undo the set-id bits of; chmod,
	 * not mkdir's mode: minicr's umask must not change it. */
	if (ce->has_cwd_deleted_uid &&
	    chown(tmp, ce->cwd_deleted_uid, ce->has_cwd_deleted_gid ? ce->cwd_deleted_gid : 0) < 0) {
		ret = -errno;
		pr_err("task %d: chown %s (for its deleted cwd %s): %s", c->t->pid, tmp, ce->cwd,
		       errstr(ret));
	} else if (chmod(tmp, ce->cwd_deleted_mode & 07777) < 0) {
		ret = -errno;
		pr_err("task %d: chmod %s (for its deleted cwd %s): %s", c->t->pid, tmp, ce->cwd,
		       errstr(ret));
	}
	if (!ret)
		ret = call_path(c, "chdir", __NR_chdir, tmp);
	if (rmdir(tmp) < 0 && !ret) {
		ret = -errno;
		pr_err("task %d: cannot remove %s (its deleted cwd %s made again): %s",
		       c->t->pid, tmp, ce->cwd, errstr(ret));
	}
	return ret;
}

static int restore_fs(struct rst_call *c, const CoreEntry *ce)
{
	long r;
	int ret;

	if (!ce->cwd || !ce->root || !ce->has_umask) {
		pr_err("task %d: image has no %s", c->t->pid,
		       !ce->cwd ? "cwd" : !ce->root ? "root" : "umask");
		return -EINVAL;
	}
	if (ce->has_cwd_deleted_mode)
		ret = chdir_deleted(c, ce);
	else
		ret = call_path(c, "chdir", __NR_chdir, ce->cwd);
	if (ret)
		return ret;
	/* The task shares minicr's root until here; "/" needs nothing. */
	if (strcmp(ce->root, "/")) {
		ret = call_path(c, "chroot", __NR_chroot, ce->root);
		if (ret)
			return ret;
	}
	r = rst_call(c, "umask", __NR_umask, ce->umask, 0, 0, 0, 0, 0);
	return r < 0 ? (int)r : 0;
}

static const char *fmt_rlim(rlim_t v, char *buf, size_t len)
{
	if (v == RLIM_INFINITY)
		snprintf(buf, len, "unlimited");
	else
		snprintf(buf, len, "%llu", (unsigned long long)v);
	return buf;
}

/* From minicr with prlimit(): allowed because the task still has minicr's
 * uids (creds come later), and it needs no remote call. */
static int restore_rlimits(const struct rst_task *t, const CoreEntry *ce)
{
	for (size_t i = 0; i < ce->n_rlimits; i++) {
		const RlimitEntry *e = ce->rlimits[i];
		const char *name = rst_rlimit_name(e->resource);
		struct rlimit nl = { e->cur, e->max }, old;
		char a[24], b[24], d[24], e2[24];
		int ret;

		if (!name) {
			pr_err("task %d: image has a limit for unknown resource %u", t->pid, e->resource);
			return -EINVAL;
		}
		if (prlimit(t->pid, e->resource, NULL, &old) < 0) {
			ret = -errno;
			pr_err("task %d: cannot read %s: %s", t->pid, name, errstr(ret));
			return ret;
		}
		if (prlimit(t->pid, e->resource, &nl, NULL) == 0)
			continue;
		ret = -errno;
		if (ret == -EPERM && nl.rlim_max > old.rlim_max)
			pr_err("task %d: cannot raise the hard limit of %s from %s to %s: raising a "
			       "hard limit needs CAP_SYS_RESOURCE%s: %s", t->pid, name,
			       fmt_rlim(old.rlim_max, a, sizeof(a)), fmt_rlim(nl.rlim_max, b, sizeof(b)),
			       e->resource == RLIMIT_NOFILE ? " (and at most fs.nr_open)" : "",
			       errstr(ret));
		else if (ret == -EPERM && e->resource == RLIMIT_NOFILE)
			pr_err("task %d: cannot set %s to %s/%s: above fs.nr_open?: %s", t->pid, name,
			       fmt_rlim(nl.rlim_cur, a, sizeof(a)), fmt_rlim(nl.rlim_max, b, sizeof(b)),
			       errstr(ret));
		else
			pr_err("task %d: cannot set %s to %s/%s (now %s/%s): %s", t->pid, name,
			       fmt_rlim(nl.rlim_cur, a, sizeof(a)), fmt_rlim(nl.rlim_max, b, sizeof(b)),
			       fmt_rlim(old.rlim_cur, d, sizeof(d)), fmt_rlim(old.rlim_max, e2, sizeof(e2)),
			       errstr(ret));
		return ret;
	}
	return 0;
}

/* The body has minicr's RLIMIT_NOFILE, whose soft limit may be below a
 * recorded fd number (the task raised its own): dup3() to that number
 * would fail. Open the soft limit up to the hard one for the reopen;
 * restore_rlimits() sets the recorded limits right after. */
static int open_nofile(const struct rst_task *t)
{
	struct rlimit rl;
	int ret;

	if (prlimit(t->pid, RLIMIT_NOFILE, NULL, &rl) < 0)
		goto err;
	if (rl.rlim_cur == rl.rlim_max)
		return 0;
	rl.rlim_cur = rl.rlim_max;
	if (prlimit(t->pid, RLIMIT_NOFILE, &rl, NULL) < 0)
		goto err;
	return 0;
err:
	ret = -errno;
	pr_err("task %d: cannot raise RLIMIT_NOFILE to its hard limit for the fds: %s", t->pid,
	       errstr(ret));
	return ret;
}

static int restore_prctl(struct rst_call *c, const CoreEntry *ce)
{
	char what[64];
	long r;

	if (ce->has_personality) {
		snprintf(what, sizeof(what), "personality(0x%x)", ce->personality);
		r = rst_call(c, what, __NR_personality, ce->personality, 0, 0, 0, 0, 0);
		if (r < 0)
			return r;
	}
	if (ce->has_child_subreaper) {
		r = rst_call(c, "prctl(PR_SET_CHILD_SUBREAPER)", __NR_prctl,
			     PR_SET_CHILD_SUBREAPER, ce->child_subreaper, 0, 0, 0, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- per thread ---- */

static int restore_sigaltstack(struct rst_call *c, const ThreadCoreEntry *te)
{
	struct { uint64_t sp; int32_t flags; int32_t pad; uint64_t size; } ss = { 0 };
	char what[96];
	long r;
	int ret;

	if (te->sigaltstack) {
		ss.sp = te->sigaltstack->sp;
		/* SS_ONSTACK only reports that the thread was running on it;
		 * the stack itself is what is set. */
		ss.flags = (int32_t)te->sigaltstack->flags & ~SS_ONSTACK;
		ss.size = te->sigaltstack->size;
	} else {
		ss.flags = SS_DISABLE;
	}
	if (ss.flags & SS_DISABLE) {
		ss.sp = 0;
		ss.size = 0;
	}
	ret = rst_call_put(c, 0, &ss, sizeof(ss));
	if (ret)
		return ret;
	snprintf(what, sizeof(what), "sigaltstack(sp 0x%llx, size %llu, flags 0x%x)",
		 (unsigned long long)ss.sp, (unsigned long long)ss.size, ss.flags);
	r = rst_call(c, what, __NR_sigaltstack, rst_scratch(c, 0), 0, 0, 0, 0, 0);
	return r < 0 ? (int)r : 0;
}

/* A thread stopped inside an rseq critical section must resume at its abort
 * handler, as the kernel would have made it on its way back to user space.
 * That is decided now, from the rseq_cs pointer in the restored memory:
 * once the area is registered, the kernel clears the pointer on the first
 * return to user space of a remote call, whose ip is outside the section. */
static int rseq_fixup_ip(struct rst_call *c, ThreadCoreEntry *te)
{
	struct rst_rseq_cs cs;
	uint64_t cs_ptr;
	uint32_t sig;
	int ret;

	if (!te->regs || (int64_t)te->regs->orig_ax >= 0)
		return 0;   /* in a system call: never inside a section */
	ret = remote_read(c->t->pid, te->rseq->ptr + 8, &cs_ptr, sizeof(cs_ptr));
	if (!ret && cs_ptr)
		ret = remote_read(c->t->pid, cs_ptr, &cs, sizeof(cs));
	if (ret) {
		pr_err("task %d thread %d: cannot read its rseq area at 0x%llx: %s", c->t->pid,
		       c->tid, (unsigned long long)te->rseq->ptr, errstr(ret));
		return ret;
	}
	if (!cs_ptr || !rst_rseq_in_cs(te->regs->ip, &cs))
		return 0;
	/* The kernel kills a thread whose abort handler lacks the signature. */
	ret = remote_read(c->t->pid, cs.abort_ip - 4, &sig, sizeof(sig));
	if (ret || sig != te->rseq->signature) {
		pr_err("task %d thread %d: stopped in an rseq critical section whose abort "
		       "handler 0x%llx has no valid signature", c->t->pid, c->tid,
		       (unsigned long long)cs.abort_ip);
		return ret ? ret : -EINVAL;
	}
	pr_debug("task %d thread %d: in an rseq critical section at 0x%llx: resumes at its "
		 "abort handler 0x%llx", c->t->pid, c->tid, (unsigned long long)te->regs->ip,
		 (unsigned long long)cs.abort_ip);
	te->regs->ip = cs.abort_ip;
	return 0;
}

static int restore_rseq(struct rst_call *c, ThreadCoreEntry *te)
{
	struct __ptrace_rseq_configuration conf = { 0 };
	char what[96];
	long r;
	int ret;

	if (!te->rseq || !te->rseq->ptr)
		return 0;
	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, c->tid, sizeof(conf), &conf) < 0) {
		ret = -errno;
		pr_err("task %d thread %d: PTRACE_GET_RSEQ_CONFIGURATION: %s", c->t->pid, c->tid,
		       errstr(ret));
		return ret;
	}
	if (conf.rseq_abi_pointer) {
		pr_err("task %d thread %d: still has minicr's rseq area at 0x%llx registered "
		       "(rst_mem_restore() unregisters it)", c->t->pid, c->tid,
		       (unsigned long long)conf.rseq_abi_pointer);
		return -EBUSY;
	}
	ret = rseq_fixup_ip(c, te);
	if (ret)
		return ret;
	snprintf(what, sizeof(what), "rseq(0x%llx, %u, 0, 0x%x)",
		 (unsigned long long)te->rseq->ptr, te->rseq->len, te->rseq->signature);
	r = rst_call(c, what, __NR_rseq, te->rseq->ptr, te->rseq->len, 0, te->rseq->signature,
		     0, 0);
	return r < 0 ? (int)r : 0;
}

static int read_thread_status(const struct rst_call *c, char **buf)
{
	char path[64];
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", c->t->pid, c->tid);
	ret = read_file(path, 1 << 20, buf, NULL);
	if (ret)
		pr_err("task %d thread %d: cannot read %s: %s", c->t->pid, c->tid, path, errstr(ret));
	return ret;
}

static int status_caps(const struct rst_call *c, const char *st, uint64_t *inh, uint64_t *prm,
		       uint64_t *bnd)
{
	int ret = rst_status_hex(st, "CapInh:", inh);

	if (!ret)
		ret = rst_status_hex(st, "CapPrm:", prm);
	if (!ret)
		ret = rst_status_hex(st, "CapBnd:", bnd);
	if (ret)
		pr_err("task %d thread %d: no CapInh:/CapPrm:/CapBnd: in its status: %s", c->t->pid,
		       c->tid, errstr(ret));
	return ret;
}

/* setfsuid()/setfsgid() return the previous value, never an error: ask
 * again with an invalid id (which changes nothing) to see if it took. */
static int set_fsid(struct rst_call *c, long nr, const char *name, uint32_t id)
{
	char what[48];
	long r;

	snprintf(what, sizeof(what), "%s(%u)", name, id);
	r = rst_call(c, what, nr, id, 0, 0, 0, 0, 0);
	if (r >= 0)
		r = rst_call(c, what, nr, (uint32_t)-1, 0, 0, 0, 0, 0);
	if (r < 0)
		return r;
	if ((uint32_t)r != id) {
		pr_err("task %d thread %d: %s was refused: it is still %ld", c->t->pid, c->tid,
		       what, r);
		return -EPERM;
	}
	return 0;
}

/* Creds of one thread, in that thread (each thread has its own). While the
 * uids change, PR_SET_KEEPCAPS keeps the permitted set from being cleared
 * (setresuid from 0 to non-zero clears it), so capset() can still give the
 * recorded sets afterwards. Only capabilities minicr's own thread has can
 * be given. */
static int restore_creds(struct rst_call *c, const ThreadCoreEntry *te)
{
	const CredsEntry *cr = te->creds;
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	_cleanup_free_ char *st = NULL;
	uint64_t inh, prm, bnd, missing;
	char what[128], names[512];
	long r, keepcaps;
	int ret;

	if (!cr) {
		pr_err("task %d thread %d: image has no credentials; refusing to leave the thread "
		       "with minicr's", c->t->pid, c->tid);
		return -EINVAL;
	}
	if (!cr->has_cap_inh || !cr->has_cap_prm || !cr->has_cap_eff || !cr->has_cap_bnd) {
		pr_err("task %d thread %d: image lacks a capability set", c->t->pid, c->tid);
		return -EINVAL;
	}
	ret = read_thread_status(c, &st);
	if (!ret)
		ret = status_caps(c, st, &inh, &prm, &bnd);
	if (ret)
		return ret;
	/* capset() only lowers the permitted set, a bounding set is only
	 * dropped from, and an inheritable bit needs to be in the bounding
	 * set unless the thread has it already. */
	missing = (cr->cap_prm & ~prm) | (cr->cap_bnd & ~bnd) | (cr->cap_inh & ~(inh | bnd));
	if (missing) {
		rst_cap_names(missing, names, sizeof(names));
		pr_err("task %d thread %d: had capabilities minicr does not have itself and "
		       "cannot give: %s", c->t->pid, c->tid, names);
		return -EPERM;
	}

	if (cr->n_groups * sizeof(uint32_t) > c->scratch_len) {
		pr_err("task %d thread %d: %zu supplementary groups do not fit scratch memory",
		       c->t->pid, c->tid, cr->n_groups);
		return -E2BIG;
	}
	ret = rst_call_put(c, 0, cr->groups, cr->n_groups * sizeof(uint32_t));
	if (ret)
		return ret;
	snprintf(what, sizeof(what), "setgroups(%zu groups)", cr->n_groups);
	r = rst_call(c, what, __NR_setgroups, cr->n_groups, rst_scratch(c, 0), 0, 0, 0, 0);
	if (r < 0)
		return r;

	/* Dropping from the bounding set needs CAP_SETPCAP in the effective
	 * set, which the uid change below may clear: drop first. */
	for (unsigned int cap = 0; cap < 64; cap++) {
		if (!(bnd & ~cr->cap_bnd & (1ULL << cap)))
			continue;
		snprintf(what, sizeof(what), "prctl(PR_CAPBSET_DROP, %u)", cap);
		r = rst_call(c, what, __NR_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0, 0);
		if (r < 0)
			return r;
	}

	keepcaps = rst_call(c, "prctl(PR_GET_KEEPCAPS)", __NR_prctl, PR_GET_KEEPCAPS, 0, 0, 0, 0, 0);
	if (keepcaps < 0)
		return keepcaps;
	r = rst_call(c, "prctl(PR_SET_KEEPCAPS, 1)", __NR_prctl, PR_SET_KEEPCAPS, 1, 0, 0, 0, 0);
	if (r < 0)
		return r;
	snprintf(what, sizeof(what), "setresgid(%u, %u, %u)", cr->gid, cr->egid, cr->sgid);
	r = rst_call(c, what, __NR_setresgid, cr->gid, cr->egid, cr->sgid, 0, 0, 0);
	if (r < 0)
		return r;
	ret = set_fsid(c, __NR_setfsgid, "setfsgid", cr->fsgid);
	if (ret)
		return ret;
	snprintf(what, sizeof(what), "setresuid(%u, %u, %u)", cr->uid, cr->euid, cr->suid);
	r = rst_call(c, what, __NR_setresuid, cr->uid, cr->euid, cr->suid, 0, 0, 0);
	if (r < 0)
		return r;
	ret = set_fsid(c, __NR_setfsuid, "setfsuid", cr->fsuid);
	if (ret)
		return ret;
	snprintf(what, sizeof(what), "prctl(PR_SET_KEEPCAPS, %ld)", keepcaps);
	r = rst_call(c, what, __NR_prctl, PR_SET_KEEPCAPS, keepcaps, 0, 0, 0, 0);
	if (r < 0)
		return r;

	data[0].effective = (uint32_t)cr->cap_eff;
	data[1].effective = (uint32_t)(cr->cap_eff >> 32);
	data[0].permitted = (uint32_t)cr->cap_prm;
	data[1].permitted = (uint32_t)(cr->cap_prm >> 32);
	data[0].inheritable = (uint32_t)cr->cap_inh;
	data[1].inheritable = (uint32_t)(cr->cap_inh >> 32);
	ret = rst_call_put(c, 0, &hdr, sizeof(hdr));
	if (!ret)
		ret = rst_call_put(c, 64, data, sizeof(data));
	if (ret)
		return ret;
	snprintf(what, sizeof(what), "capset(eff 0x%llx, prm 0x%llx, inh 0x%llx)",
		 (unsigned long long)cr->cap_eff, (unsigned long long)cr->cap_prm,
		 (unsigned long long)cr->cap_inh);
	r = rst_call(c, what, __NR_capset, rst_scratch(c, 0), rst_scratch(c, 64), 0, 0, 0, 0);
	if (r < 0)
		return r;

	/* The ambient set was cleared by the uid change (or is minicr's). */
	if (cr->has_cap_amb) {
		r = rst_call(c, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)", __NR_prctl, PR_CAP_AMBIENT,
			     PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0, 0);
		if (r < 0)
			return r;
		for (unsigned int cap = 0; cap < 64; cap++) {
			if (!(cr->cap_amb & (1ULL << cap)))
				continue;
			snprintf(what, sizeof(what), "prctl(PR_CAP_AMBIENT_RAISE, %u)", cap);
			r = rst_call(c, what, __NR_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap,
				     0, 0, 0);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* no_new_privs is a thread flag: threads created before it was set in the
 * leader do not have it, so each thread sets its own. */
static int restore_nnp(struct rst_call *c, const CoreEntry *ce, const ThreadCoreEntry *te)
{
	bool has = te->has_no_new_privs || ce->has_no_new_privs;
	bool want = te->has_no_new_privs ? te->no_new_privs : ce->no_new_privs;
	long r;

	if (!has)
		return 0;
	if (want) {
		r = rst_call(c, "prctl(PR_SET_NO_NEW_PRIVS)", __NR_prctl, PR_SET_NO_NEW_PRIVS, 1,
			     0, 0, 0, 0);
		return r < 0 ? r : 0;
	}
	/* Inherited from minicr, and it cannot be cleared. */
	r = rst_call(c, "prctl(PR_GET_NO_NEW_PRIVS)", __NR_prctl, PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0,
		     0);
	if (r < 0)
		return r;
	if (r) {
		pr_err("task %d thread %d: has no_new_privs from minicr but the image says it had "
		       "not; run minicr without no_new_privs", c->t->pid, c->tid);
		return -EPERM;
	}
	return 0;
}

static int restore_thread(struct rst_call *c, const CoreEntry *ce, ThreadCoreEntry *te,
			  bool leader)
{
	const char *comm = te->comm ? te->comm : leader ? ce->comm : NULL;
	char what[64];
	long r;
	int ret;

	if (comm) {
		char name[16] = { 0 };

		/* The kernel keeps 15 bytes and the NUL. */
		snprintf(name, sizeof(name), "%s", comm);
		ret = rst_call_put(c, 0, name, sizeof(name));
		if (ret)
			return ret;
		snprintf(what, sizeof(what), "prctl(PR_SET_NAME, \"%s\")", name);
		r = rst_call(c, what, __NR_prctl, PR_SET_NAME, rst_scratch(c, 0), 0, 0, 0, 0);
		if (r < 0)
			return r;
	}
	ret = restore_sigaltstack(c, te);
	if (!ret)
		ret = restore_rseq(c, te);
	if (ret)
		return ret;
	/* Always set, also to 0 when the image has none: the created thread
	 * may carry an address in minicr's old memory that the kernel would
	 * write to when it exits. */
	snprintf(what, sizeof(what), "set_tid_address(0x%llx)",
		 (unsigned long long)te->clear_tid_addr);
	r = rst_call(c, what, __NR_set_tid_address, te->clear_tid_addr, 0, 0, 0, 0, 0);
	if (r < 0)
		return r;
	/* Same for a robust list of minicr's (glibc registers one per thread). */
	snprintf(what, sizeof(what), "set_robust_list(0x%llx, %llu)",
		 (unsigned long long)te->robust_list,
		 (unsigned long long)(te->has_robust_list_len ? te->robust_list_len : 24));
	r = rst_call(c, what, __NR_set_robust_list, te->robust_list,
		     te->has_robust_list_len ? te->robust_list_len : 24, 0, 0, 0, 0);
	if (r < 0)
		return r;
	ret = rst_sig_thread(c, te);
	if (!ret)
		ret = timers_rst_thread(c, ce, te);
	if (!ret)
		ret = attrs_rst_thread(c, ce, te);
	if (!ret)
		ret = restore_nnp(c, ce, te);
	if (!ret)
		ret = rst_seccomp_thread(c, ce, te);
	if (!ret)
		ret = restore_creds(c, te);
	if (!ret)
		ret = attrs_rst_thread_late(c, te);
	return ret;
}

static int check_threads(const struct rst_task *t)
{
	if (t->core->n_threads != t->nr_tids || !t->nr_tids) {
		pr_err("task %d: image has %zu threads, %zu were created", t->pid,
		       t->core->n_threads, t->nr_tids);
		return -EINVAL;
	}
	return 0;
}

int rst_core_restore(int dirfd, struct rst_task *t)
{
	CoreEntry *ce = t->core;
	struct rst_call leader, c;
	long r;
	int ret;

	(void)dirfd;   /* files come from files.c's registry (files_rst_init) */
	if (!ce)
		return 0;   /* zombie or helper: nothing runs in it */
	ret = check_threads(t);
	if (ret)
		return ret;

	ret = rst_call_start(&leader, t, t->tids[0]);
	if (!ret)
		ret = open_nofile(t);
	/* A table shared with the parent was restored with the parent's
	 * (restored first: tree order); its fds-<pid>.img is that table. */
	if (!ret && !(ce->has_fdtable_shared_with_parent && ce->fdtable_shared_with_parent))
		ret = files_rst_task(&leader, t->pe->pid);
	else if (!ret)
		pr_debug("task %d: fd table shared with its parent, restored there", t->pid);
	if (!ret)
		ret = restore_fs(&leader, ce);
	if (!ret)
		ret = restore_rlimits(t, ce);
	if (!ret)
		ret = rst_seccomp_task(&leader, ce);
	if (!ret)
		ret = restore_prctl(&leader, ce);
	if (!ret)
		ret = attrs_rst_task(&leader, ce);
	if (!ret)
		ret = rst_sig_task(&leader, ce);
	if (ret)
		goto cleanup;

	for (size_t i = 1; i < t->nr_tids; i++) {
		ret = rst_call_start(&c, t, t->tids[i]);
		if (!ret)
			ret = restore_thread(&c, ce, ce->threads[i], false);
		if (ret)
			goto cleanup;
	}
	ret = restore_thread(&leader, ce, ce->threads[0], true);
	if (ret)
		goto cleanup;
	if (ce->has_pdeath_signal) {
		r = rst_call(&leader, "prctl(PR_SET_PDEATHSIG)", __NR_prctl, PR_SET_PDEATHSIG,
			     ce->pdeath_signal, 0, 0, 0, 0);
		if (r < 0)
			ret = r;
	}
	if (!ret)
		ret = attrs_rst_task_late(&leader, ce);
cleanup:
	if (!ret)
		pr_info("task %d: core state restored (%zu threads)", t->pid, t->nr_tids);
	return ret;
}

/* ---- resume ---- */

static int resume_thread(const struct rst_task *t, pid_t tid, const ThreadCoreEntry *te)
{
	struct user_regs_struct regs;
	struct iovec iov;
	const char *what;
	int ret;

	if (!te->regs || !te->has_xstate || !te->has_blocked) {
		pr_err("task %d thread %d: image has no %s", t->pid, tid,
		       !te->regs ? "registers" : !te->has_xstate ? "FPU state" : "signal mask");
		return -EINVAL;
	}
	iov.iov_base = te->xstate.data;
	iov.iov_len = te->xstate.len;
	what = "PTRACE_SETREGSET NT_X86_XSTATE (same CPU features as at dump?)";
	if (ptrace(PTRACE_SETREGSET, tid, NT_X86_XSTATE, &iov) < 0)
		goto err;
	/* The thread sits at the exit of our last remote call, where the
	 * kernel no longer restarts what the recorded registers had
	 * interrupted: rewrite them so the call restarts. */
	rst_regs_from_entry(te->regs, &regs);
	regs_fixup_restart(&regs);
	what = "PTRACE_SETREGS";
	if (ptrace(PTRACE_SETREGS, tid, NULL, &regs) < 0)
		goto err;
	what = "PTRACE_SETSIGMASK";
	if (ptrace(PTRACE_SETSIGMASK, tid, sizeof(uint64_t), &te->blocked) < 0)
		goto err;
	return 0;
err:
	ret = -errno;
	pr_err("task %d thread %d: %s: %s", t->pid, tid, what, errstr(ret));
	return ret;
}

int rst_threads_resume(struct rst_task *t)
{
	int ret;

	if (!t->core)
		return 0;
	ret = check_threads(t);
	for (size_t i = 0; !ret && i < t->nr_tids; i++)
		ret = resume_thread(t, t->tids[i], t->core->threads[i]);
	return ret;
}
