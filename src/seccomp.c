/* Seccomp per thread, dump and restore: see seccomp.h. */
#include "seccomp.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

#include "log.h"
#include "util.h"

/* What restore can pass back to seccomp(2) as recorded. */
#define SECCOMP_FLAGS_KEPT (SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW)

/* PTRACE_SECCOMP_GET_METADATA's argument (struct seccomp_metadata). */
struct seccomp_md {
	uint64_t filter_off;
	uint64_t flags;
};

/* ---- pure ---- */

static int parse_u32_field(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	while (*s == ' ' || *s == '\t')
		s++;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *s == '-' || v > UINT32_MAX || (*end && *end != '\n'))
		return -EINVAL;
	*out = v;
	return 0;
}

int seccomp_status_parse(const char *buf, uint32_t *mode, uint32_t *nr, bool *has_nr)
{
	const char *line = buf;
	int ret = 0;

	*mode = 0;
	*nr = 0;
	*has_nr = false;
	while (line && *line && !ret) {
		const char *nl = strchr(line, '\n');

		if (!strncmp(line, "Seccomp:", 8)) {
			ret = parse_u32_field(line + 8, mode);
		} else if (!strncmp(line, "Seccomp_filters:", 16)) {
			ret = parse_u32_field(line + 16, nr);
			*has_nr = true;
		}
		line = nl ? nl + 1 : NULL;
	}
	return ret;
}

const char *seccomp_prog_refusal(const void *prog, size_t len)
{
	const struct sock_filter *f = prog;

	if (!len || len % SECCOMP_INSN_SIZE || len / SECCOMP_INSN_SIZE > BPF_MAXINSNS)
		return "not a classic BPF program of 1 to 4096 instructions";
	for (size_t i = 0; i < len / SECCOMP_INSN_SIZE; i++) {
		if (BPF_CLASS(f[i].code) != BPF_RET)
			continue;
		if (BPF_RVAL(f[i].code) != BPF_K)
			return "returns a computed action, which may be SECCOMP_RET_USER_NOTIF";
		if ((f[i].k & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_USER_NOTIF)
			return "returns SECCOMP_RET_USER_NOTIF: its listener cannot be restored";
	}
	return NULL;
}

/* Does thread o's chain start with te's chain followed by a filter equal to
 * (prog, flags)? Then it is the same filter object. */
static bool same_filter_at(const CoreEntry *ce, const ThreadCoreEntry *o,
			   const ThreadCoreEntry *te, const ProtobufCBinaryData *prog,
			   uint32_t flags)
{
	size_t n = te->n_seccomp_chain;
	const SeccompFilterEntry *f;

	/* n == 0: te's chain may still be NULL, which memcmp must not get. */
	if (o == te || o->n_seccomp_chain <= n ||
	    (n && memcmp(o->seccomp_chain, te->seccomp_chain, n * sizeof(uint32_t))))
		return false;
	f = ce->seccomp_filters[o->seccomp_chain[n]];
	return f->prog.len == prog->len && !memcmp(f->prog.data, prog->data, prog->len) &&
	       (f->has_flags ? f->flags : 0) == flags;
}

int seccomp_chain_add(CoreEntry *ce, ThreadCoreEntry *te, ProtobufCBinaryData *prog,
		      uint32_t flags)
{
	uint32_t *chain, idx = ce->n_seccomp_filters;

	for (size_t i = 0; i < ce->n_threads && idx == ce->n_seccomp_filters; i++)
		if (same_filter_at(ce, ce->threads[i], te, prog, flags))
			idx = ce->threads[i]->seccomp_chain[te->n_seccomp_chain];
	chain = realloc(te->seccomp_chain, (te->n_seccomp_chain + 1) * sizeof(*chain));
	if (!chain)
		return -ENOMEM;
	te->seccomp_chain = chain;
	if (idx == ce->n_seccomp_filters) {
		SeccompFilterEntry **tab, *f;

		tab = realloc(ce->seccomp_filters, (idx + 1) * sizeof(*tab));
		if (!tab)
			return -ENOMEM;
		ce->seccomp_filters = tab;
		f = malloc(sizeof(*f));
		if (!f)
			return -ENOMEM;
		seccomp_filter_entry__init(f);
		f->prog = *prog;
		f->has_flags = flags != 0;
		f->flags = flags;
		prog->data = NULL;
		tab[ce->n_seccomp_filters++] = f;
	} else {
		free(prog->data);
		prog->data = NULL;
	}
	chain[te->n_seccomp_chain++] = idx;
	return 0;
}

size_t seccomp_common_prefix(const CoreEntry *ce)
{
	size_t n;

	if (!ce->n_threads)
		return 0;
	n = ce->threads[0]->n_seccomp_chain;
	for (size_t i = 1; i < ce->n_threads; i++) {
		const ThreadCoreEntry *te = ce->threads[i];
		size_t k = 0;

		while (k < n && k < te->n_seccomp_chain &&
		       te->seccomp_chain[k] == ce->threads[0]->seccomp_chain[k])
			k++;
		n = k;
	}
	return n;
}

int seccomp_find_partial_share(const CoreEntry *ce, size_t *a, size_t *b, uint32_t *idx)
{
	size_t common = seccomp_common_prefix(ce);

	for (size_t i = 0; i < ce->n_threads; i++) {
		const ThreadCoreEntry *ti = ce->threads[i];

		for (size_t k = common; k < ti->n_seccomp_chain; k++) {
			for (size_t j = i + 1; j < ce->n_threads; j++) {
				const ThreadCoreEntry *tj = ce->threads[j];

				for (size_t l = common; l < tj->n_seccomp_chain; l++) {
					if (tj->seccomp_chain[l] != ti->seccomp_chain[k])
						continue;
					*a = i;
					*b = j;
					*idx = ti->seccomp_chain[k];
					return -EOPNOTSUPP;
				}
			}
		}
	}
	return 0;
}

int seccomp_check_image(const CoreEntry *ce, size_t *thread, const char **why)
{
	for (size_t i = 0; i < ce->n_threads; i++) {
		const ThreadCoreEntry *te = ce->threads[i];
		uint32_t mode = te->has_seccomp_mode ? te->seccomp_mode : 0;

		*thread = i;
		if (mode > SECCOMP_MODE_FILTER) {
			*why = "unknown seccomp mode";
			return -EINVAL;
		}
		if ((mode == SECCOMP_MODE_FILTER) != (te->n_seccomp_chain > 0)) {
			*why = "filters without filter mode, or filter mode without filters";
			return -EINVAL;
		}
		for (size_t k = 0; k < te->n_seccomp_chain; k++) {
			const SeccompFilterEntry *f;

			if (te->seccomp_chain[k] >= ce->n_seccomp_filters) {
				*why = "a filter index outside the task's filter table";
				return -EINVAL;
			}
			f = ce->seccomp_filters[te->seccomp_chain[k]];
			*why = seccomp_prog_refusal(f->prog.data, f->prog.len);
			if (*why)
				return -EINVAL;
			if (f->has_flags && (f->flags & ~SECCOMP_FLAGS_KEPT)) {
				*why = "a filter with flags restore does not know";
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* ---- dump ---- */

/* Filter number off of the thread's chain, as PTRACE_SECCOMP_GET_FILTER
 * numbers them: 0 is the oldest (get_nth_filter() in kernel/seccomp.c;
 * ptrace(2) says the newest, which is wrong on Linux 6.x): program into
 * *prog (malloc'd), flags into *flags. */
static int read_filter(pid_t pid, pid_t tid, unsigned long off, ProtobufCBinaryData *prog,
		       uint32_t *flags)
{
	struct seccomp_md md = { .filter_off = off };
	const char *why;
	long n;
	int ret;

	errno = 0;
	n = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, off, NULL);
	if (n <= 0 || n > BPF_MAXINSNS) {
		ret = n < 0 ? -errno : -EINVAL;
		if (ret == -ENOENT)
			return ret;   /* no more: not an error */
		goto refuse;
	}
	prog->data = calloc(n, SECCOMP_INSN_SIZE);
	if (!prog->data)
		return -ENOMEM;
	prog->len = n * SECCOMP_INSN_SIZE;
	if (ptrace(PTRACE_SECCOMP_GET_FILTER, tid, off, prog->data) != n ||
	    ptrace(PTRACE_SECCOMP_GET_METADATA, tid, sizeof(md), &md) < 0) {
		ret = errno ? -errno : -EIO;
		goto refuse;
	}
	why = seccomp_prog_refusal(prog->data, prog->len);
	if (why) {
		pr_err("task %d thread %d: seccomp filter %lu (0 = oldest) %s", pid, tid, off, why);
		return -EOPNOTSUPP;
	}
	if (md.flags & ~(uint64_t)SECCOMP_FLAGS_KEPT) {
		pr_err("task %d thread %d: seccomp filter %lu (0 = oldest) has flags 0x%llx, of "
		       "which minicr cannot restore 0x%llx", pid, tid, off,
		       (unsigned long long)md.flags,
		       (unsigned long long)(md.flags & ~(uint64_t)SECCOMP_FLAGS_KEPT));
		return -EOPNOTSUPP;
	}
	*flags = md.flags;
	return 0;
refuse:
	/* EMEDIUMTYPE: not a classic BPF program; EACCES/EPERM: minicr lacks
	 * CAP_SYS_ADMIN or runs under seccomp itself. */
	pr_err("task %d thread %d: seccomp filter %lu (0 = oldest) cannot be read back: %s",
	       pid, tid, off, errstr(ret));
	return ret == -EMEDIUMTYPE ? -EOPNOTSUPP : ret;
}

int seccomp_dump_thread(pid_t pid, pid_t tid, CoreEntry *ce, ThreadCoreEntry *te)
{
	_cleanup_free_ char *status = NULL;
	_cleanup_free_ ProtobufCBinaryData *progs = NULL;
	_cleanup_free_ uint32_t *flags = NULL;
	char path[64];
	uint32_t mode, nr;
	size_t got = 0;
	bool has_nr;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	ret = read_file(path, 1 << 20, &status, NULL);
	if (!ret)
		ret = seccomp_status_parse(status, &mode, &nr, &has_nr);
	if (ret) {
		pr_err("task %d thread %d: cannot read its seccomp state from %s: %s", pid, tid,
		       path, errstr(ret));
		return ret;
	}
	if (mode == SECCOMP_MODE_DISABLED)
		return 0;
	if (mode != SECCOMP_MODE_STRICT && mode != SECCOMP_MODE_FILTER) {
		pr_err("task %d thread %d: seccomp mode %u: unknown to minicr", pid, tid, mode);
		return -EOPNOTSUPP;
	}
	te->has_seccomp_mode = 1;
	te->seccomp_mode = mode;
	if (mode == SECCOMP_MODE_STRICT)
		return 0;

	progs = calloc(BPF_MAXINSNS + 1, sizeof(*progs));
	flags = calloc(BPF_MAXINSNS + 1, sizeof(*flags));
	if (!progs || !flags)
		return -ENOMEM;
	/* The kernel caps a chain at MAX_INSNS_PER_PATH (256K) instructions
	 * counting 4 per filter: far fewer than BPF_MAXINSNS + 1 filters. */
	for (; got <= BPF_MAXINSNS; got++) {
		ret = read_filter(pid, tid, got, &progs[got], &flags[got]);
		if (ret)
			break;
	}
	if (ret == -ENOENT)
		ret = 0;
	if (!ret && (!got || (has_nr && got != nr))) {
		pr_err("task %d thread %d: seccomp filters: read %zu, its status says %u", pid,
		       tid, got, nr);
		ret = -EOPNOTSUPP;
	}
	for (size_t i = 0; !ret && i < got; i++)
		ret = seccomp_chain_add(ce, te, &progs[i], flags[i]);
	for (size_t i = 0; i < got; i++)
		free(progs[i].data);
	if (!ret)
		pr_debug("task %d thread %d: %zu seccomp filters", pid, tid, got);
	return ret;
}

int seccomp_dump_task(pid_t pid, const CoreEntry *ce)
{
	size_t a, b;
	uint32_t idx;

	if (!seccomp_find_partial_share(ce, &a, &b, &idx))
		return 0;
	pr_err("task %d threads %d and %d: seccomp: they share filter %u (same program on the "
	       "same chain) that other threads lack; restore can share filters among all "
	       "threads only", pid, ce->threads[a]->tid, ce->threads[b]->tid, idx);
	return -EOPNOTSUPP;
}

void seccomp_dump_free(CoreEntry *ce)
{
	for (size_t i = 0; i < ce->n_threads; i++) {
		free(ce->threads[i]->seccomp_chain);
		ce->threads[i]->seccomp_chain = NULL;
		ce->threads[i]->n_seccomp_chain = 0;
	}
	for (size_t i = 0; i < ce->n_seccomp_filters; i++) {
		free(ce->seccomp_filters[i]->prog.data);
		free(ce->seccomp_filters[i]);
	}
	free(ce->seccomp_filters);
	ce->seccomp_filters = NULL;
	ce->n_seccomp_filters = 0;
}

/* ---- restore ---- */

/* seccomp(SECCOMP_SET_MODE_FILTER) of table entry idx in c's thread. The
 * struct sock_fprog and the program go to the scratch page, or, for a
 * program too big for it, to memory mapped for the call. */
static int install(struct rst_call *c, const CoreEntry *ce, uint32_t idx, unsigned long flags)
{
	const SeccompFilterEntry *f = ce->seccomp_filters[idx];
	size_t need = sizeof(struct sock_fprog) + f->prog.len;
	unsigned long buf = rst_scratch(c, 0), mapped = 0;
	struct sock_fprog fp = { .len = f->prog.len / SECCOMP_INSN_SIZE };
	char what[96];
	long r;
	int ret;

	if (need > c->scratch_len) {
		r = rst_call(c, "mmap for a seccomp program", __NR_mmap, 0, need,
			     PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (r < 0 && r >= -4095)
			return r;
		buf = mapped = r;
	}
	fp.filter = (struct sock_filter *)(buf + sizeof(fp));
	ret = remote_write(c->t->pid, buf, &fp, sizeof(fp));
	if (!ret)
		ret = remote_write(c->t->pid, buf + sizeof(fp), f->prog.data, f->prog.len);
	if (ret) {
		pr_err("task %d thread %d: cannot write seccomp filter %u into the task: %s",
		       c->t->pid, c->tid, idx, errstr(ret));
		goto out;
	}
	snprintf(what, sizeof(what), "seccomp(SECCOMP_SET_MODE_FILTER, 0x%lx) of filter %u",
		 flags, idx);
	r = rst_call(c, what, __NR_seccomp, SECCOMP_SET_MODE_FILTER, flags, buf, 0, 0, 0);
	if (r > 0) {
		/* TSYNC: the TID of a thread whose chain was in the way. */
		pr_err("task %d thread %d: %s: thread %ld cannot take it", c->t->pid, c->tid,
		       what, r);
		r = -EBUSY;
	}
	ret = r < 0 ? r : 0;
out:
	if (mapped) {
		r = rst_call(c, "munmap of a seccomp program", __NR_munmap, mapped, need, 0, 0,
			     0, 0);
		if (r < 0 && !ret)
			ret = r;
	}
	return ret;
}

int rst_seccomp_task(struct rst_call *leader, const CoreEntry *ce)
{
	size_t common = seccomp_common_prefix(ce), i;
	const char *why;
	int ret;

	ret = seccomp_check_image(ce, &i, &why);
	if (ret) {
		pr_err("task %d thread %d: seccomp: %s in the image", leader->t->pid,
		       ce->threads[i]->tid, why);
		return ret;
	}
	/* Synced to every thread: one filter object each, shared as at dump
	 * (a later TSYNC by the program needs that). */
	for (size_t k = 0; k < common && !ret; k++)
		ret = install(leader, ce, ce->threads[0]->seccomp_chain[k],
			      SECCOMP_FILTER_FLAG_TSYNC |
			      (ce->seccomp_filters[ce->threads[0]->seccomp_chain[k]]->flags));
	if (!ret && common)
		pr_debug("task %d: %zu seccomp filters synced to all %zu threads", leader->t->pid,
			 common, ce->n_threads);
	return ret;
}

int rst_seccomp_thread(struct rst_call *c, const CoreEntry *ce, const ThreadCoreEntry *te)
{
	size_t common = seccomp_common_prefix(ce);
	long r;
	int ret = 0;

	for (size_t k = common; k < te->n_seccomp_chain && !ret; k++)
		ret = install(c, ce, te->seccomp_chain[k],
			      ce->seccomp_filters[te->seccomp_chain[k]]->flags);
	if (ret || !te->has_seccomp_mode || te->seccomp_mode != SECCOMP_MODE_STRICT)
		return ret;
	/* From here only read/write/exit/sigreturn would pass, but minicr's
	 * later remote calls run with the thread's seccomp suspended. */
	r = rst_call(c, "seccomp(SECCOMP_SET_MODE_STRICT)", __NR_seccomp, SECCOMP_SET_MODE_STRICT,
		     0, 0, 0, 0, 0);
	return r < 0 ? r : 0;
}
