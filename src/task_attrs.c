/* Scheduling and other per-task attributes (task_attrs.h). */
#include "task_attrs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "rst_core_int.h"
#include "util.h"

#ifndef PR_SET_MDWE
#define PR_SET_MDWE 65
#define PR_GET_MDWE 66
#endif
#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67
#define PR_GET_MEMORY_MERGE 68
#endif
#define ATTRS_MEMBARRIER_GET_REGISTRATIONS (1 << 9)
#define ATTRS_SECBIT_KEEP_CAPS_LOCKED (1u << 5)
#define ATTRS_SECBIT_NO_CAP_AMBIENT_RAISE (3u << 6)   /* the bit and its lock */
#define ATTRS_SCHED_DEADLINE 6
#define ATTRS_SCHED_ATTR_SIZE 56
#define ATTRS_FLAG_RESET_ON_FORK 0x01ULL
#define ATTRS_FLAG_UTIL_CLAMP 0x60ULL
#define ATTRS_IOPRIO_WHO_PROCESS 1
/* task->flags (/proc/PID/stat field 9) that PR_SET_IO_FLUSHER sets. */
#define ATTRS_PF_IO_FLUSHER (0x00080000u | 0x00100000u)
#define ATTRS_CPUSET_BYTES 128   /* 1024 CPUs */
#define ATTRS_SCRATCH_STR 256    /* offset of a string after a path in scratch */

/* struct sched_attr of linux/sched/types.h (SCHED_ATTR_SIZE_VER1). */
struct kattr {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
	uint32_t util_min, util_max;
};

/* ---- pure part ---- */

bool attrs_policy_is_rt(uint32_t policy)
{
	return policy == SCHED_FIFO || policy == SCHED_RR;
}

bool attrs_sched_util_is_default(const struct attrs_sched *s)
{
	if (!s->has_util)
		return true;
	if (attrs_policy_is_rt(s->policy))
		return s->util_min == 1024 && s->util_max == 1024;
	return s->util_min == 0 && s->util_max == 1024;
}

bool attrs_sched_is_default(const struct attrs_sched *s)
{
	return s->policy == SCHED_OTHER && s->nice == 0 && s->rt_priority == 0 &&
	       !(s->flags & ATTRS_FLAG_RESET_ON_FORK) && attrs_sched_util_is_default(s);
}

static bool bit_set(const uint8_t *m, size_t len, size_t bit)
{
	return bit / 8 < len && (m[bit / 8] >> (bit % 8)) & 1;
}

void attrs_cpulist_format(const uint8_t *mask, size_t len, char *buf, size_t buflen)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < len * 8; i++) {
		size_t j = i;
		int n;

		if (!bit_set(mask, len, i))
			continue;
		while (bit_set(mask, len, j + 1))
			j++;
		n = j > i ? snprintf(buf + off, buflen - off, "%s%zu-%zu", off ? "," : "", i, j)
			  : snprintf(buf + off, buflen - off, "%s%zu", off ? "," : "", i);
		if (n < 0 || (size_t)n >= buflen - off)
			return;
		off += n;
		i = j;
	}
	if (!off)
		snprintf(buf, buflen, "(none)");
}

int attrs_cpulist_parse(const char *s, uint8_t *mask, size_t len)
{
	memset(mask, 0, len);
	while (*s && *s != '\n') {
		char *end;
		unsigned long a, b;

		a = b = strtoul(s, &end, 10);
		if (end == s)
			return -EINVAL;
		if (*end == '-') {
			s = end + 1;
			b = strtoul(s, &end, 10);
			if (end == s || b < a)
				return -EINVAL;
		}
		if (b >= len * 8)
			return -EINVAL;
		for (unsigned long i = a; i <= b; i++)
			mask[i / 8] |= 1u << (i % 8);
		s = end;
		if (*s == ',')
			s++;
		else if (*s && *s != '\n')
			return -EINVAL;
	}
	return 0;
}

bool attrs_mask_subset(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	for (size_t i = 0; i < alen; i++) {
		uint8_t bb = i < blen ? b[i] : 0;

		if (a[i] & ~bb)
			return false;
	}
	return true;
}

bool attrs_mask_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return attrs_mask_subset(a, alen, b, blen) && attrs_mask_subset(b, blen, a, alen);
}

int attrs_autogroup_parse(const char *s, long *id, int *nice)
{
	char tail;

	/* Tasks whose session goes back to init without a setsid() are in the
	 * kernel's default autogroup (id 0), which the file does not show and
	 * whose nice cannot be changed. */
	if (!*s) {
		*id = 0;
		*nice = 0;
		return 0;
	}
	if (sscanf(s, "/autogroup-%ld nice %d%c", id, nice, &tail) != 3 || tail != '\n')
		return -EINVAL;
	return 0;
}

bool attrs_spec_recordable(long v)
{
	return v >= 0 && (v & PR_SPEC_PRCTL) && v != (PR_SPEC_PRCTL | PR_SPEC_ENABLE);
}

void attrs_secbits_split(uint32_t bits, bool has_ambient, uint32_t *early, uint32_t *late)
{
	*late = bits & ATTRS_SECBIT_KEEP_CAPS_LOCKED;
	if (has_ambient)
		*late |= bits & ATTRS_SECBIT_NO_CAP_AMBIENT_RAISE;
	*early = bits & ~*late;
}

static bool has_ambient(const ThreadCoreEntry *te)
{
	return te->creds && te->creds->has_cap_amb && te->creds->cap_amb;
}

/* ---- /proc files, from minicr ---- */

static int proc_read(const char *path, char **buf)
{
	return read_file(path, 4096, buf, NULL);
}

static int proc_read_long(const char *path, int base, long *v)
{
	_cleanup_free_ char *buf = NULL;
	char *end;
	int ret = proc_read(path, &buf);

	if (ret)
		return ret;
	errno = 0;
	*v = strtol(buf, &end, base);
	if (errno || end == buf || (*end && *end != '\n'))
		return -EINVAL;
	return 0;
}

static int proc_write(const char *path, const char *val)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return write_all(fd, val, strlen(val));
}

static int online_cpus(uint8_t *mask, size_t len)
{
	_cleanup_free_ char *buf = NULL;
	int ret = proc_read("/sys/devices/system/cpu/online", &buf);

	return ret ? ret : attrs_cpulist_parse(buf, mask, len);
}

/* ---- dump ---- */

/* A remote call whose result is the value; unsupported (EINVAL, ENODEV)
 * gives -EINVAL unlogged when einval_ok, everything else is logged. */
static int dump_call(struct remote *r, const char *what, long nr, unsigned long a1,
		     unsigned long a2, bool einval_ok, long *v)
{
	long ret = remote_syscall(r, nr, a1, a2, 0, 0, 0, 0);

	if (ret < 0 && einval_ok && (ret == -EINVAL || ret == -ENODEV))
		return -EINVAL;
	if (ret < 0) {
		pr_err("task %d thread %d: remote %s: %s", r->pid, r->tid, what, errstr((int)ret));
		return (int)ret;
	}
	*v = ret;
	return 0;
}

/* sched_getattr() reports no nice for an RT thread, which still has one
 * (it comes back with a fair policy): getpriority() does. */
static int sched_get(pid_t pid, pid_t tid, struct kattr *k)
{
	const char *what = "sched_getattr";
	int ret;

	memset(k, 0, sizeof(*k));
	if (syscall(SYS_sched_getattr, tid, k, sizeof(*k), 0) == 0) {
		errno = 0;
		what = "getpriority";
		k->nice = getpriority(PRIO_PROCESS, tid);
		if (!errno)
			return 0;
	}
	ret = -errno;
	pr_err("task %d thread %d: %s: %s", pid, tid, what, errstr(ret));
	return ret;
}

static int dump_sched(struct remote *r, ThreadAttrsEntry *a, bool *rt)
{
	struct kattr k = { 0 };
	struct attrs_sched s;
	SchedAttrEntry *e;
	int ret;

	ret = sched_get(r->pid, r->tid, &k);
	if (ret)
		return ret;
	if (k.policy == ATTRS_SCHED_DEADLINE) {
		pr_err("task %d thread %d: scheduling policy SCHED_DEADLINE (runtime %llu ns, "
		       "deadline %llu ns, period %llu ns): not supported by minicr", r->pid, r->tid,
		       (unsigned long long)k.runtime, (unsigned long long)k.deadline,
		       (unsigned long long)k.period);
		return -EOPNOTSUPP;
	}
	s = (struct attrs_sched){ .policy = k.policy, .flags = k.flags, .nice = k.nice,
		.rt_priority = k.priority, .util_min = k.util_min, .util_max = k.util_max,
		.has_util = k.util_min || k.util_max };
	*rt = attrs_policy_is_rt(k.policy);
	if (attrs_sched_is_default(&s))
		return 0;
	e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	sched_attr_entry__init(e);
	e->policy = s.policy;
	e->has_flags = !!(s.flags & ATTRS_FLAG_RESET_ON_FORK);
	e->flags = s.flags & ATTRS_FLAG_RESET_ON_FORK;
	e->has_nice = s.nice != 0;
	e->nice = s.nice;
	e->has_rt_priority = s.rt_priority != 0;
	e->rt_priority = s.rt_priority;
	if (!attrs_sched_util_is_default(&s)) {
		e->has_util_min = e->has_util_max = 1;
		e->util_min = s.util_min;
		e->util_max = s.util_max;
	}
	a->sched = e;
	return 0;
}

static int dump_affinity(struct remote *r, ThreadAttrsEntry *a)
{
	uint8_t mask[ATTRS_CPUSET_BYTES], online[ATTRS_CPUSET_BYTES];
	long n = syscall(SYS_sched_getaffinity, r->tid, sizeof(mask), mask);
	int ret;

	if (n < 0) {
		ret = -errno;
		pr_err("task %d thread %d: sched_getaffinity: %s", r->pid, r->tid, errstr(ret));
		return ret;
	}
	ret = online_cpus(online, sizeof(online));
	if (ret) {
		pr_err("task %d thread %d: cannot read /sys/devices/system/cpu/online: %s",
		       r->pid, r->tid, errstr(ret));
		return ret;
	}
	if (attrs_mask_equal(mask, n, online, sizeof(online)))
		return 0;
	while (n > 1 && !mask[n - 1])
		n--;
	a->affinity.data = malloc(n);
	if (!a->affinity.data)
		return -ENOMEM;
	memcpy(a->affinity.data, mask, n);
	a->affinity.len = n;
	a->has_affinity = 1;
	return 0;
}

/* PR_SET_IO_FLUSHER needs CAP_SYS_RESOURCE, which minicr may lack; and
 * PR_GET_IO_FLUSHER needs it too, so read the task flags instead. */
static int check_io_flusher(struct remote *r)
{
	_cleanup_free_ char *buf = NULL;
	char path[64], *p;
	unsigned long flags;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", r->pid, r->tid);
	ret = proc_read(path, &buf);
	p = ret ? NULL : strrchr(buf, ')');
	if (p && sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
		p = NULL;
	if (!p) {
		pr_err("task %d thread %d: cannot read the flags in %s: %s", r->pid, r->tid, path,
		       errstr(ret ? ret : -EINVAL));
		return ret ? ret : -EINVAL;
	}
	if ((flags & ATTRS_PF_IO_FLUSHER) == ATTRS_PF_IO_FLUSHER) {
		pr_err("task %d thread %d: PR_SET_IO_FLUSHER is set: restoring it needs "
		       "CAP_SYS_RESOURCE", r->pid, r->tid);
		return -EOPNOTSUPP;
	}
	return 0;
}

static int check_loginuid(struct remote *r)
{
	char path[64];
	long task, thread;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/loginuid", r->pid);
	ret = proc_read_long(path, 10, &task);
	if (!ret) {
		snprintf(path, sizeof(path), "/proc/%d/task/%d/loginuid", r->pid, r->tid);
		ret = proc_read_long(path, 10, &thread);
	}
	if (ret == -ENOENT)
		return 0;   /* no audit */
	if (ret) {
		pr_err("task %d thread %d: cannot read %s: %s", r->pid, r->tid, path, errstr(ret));
		return ret;
	}
	if (task != thread) {
		pr_err("task %d thread %d: loginuid %ld differs from its leader's %ld: a loginuid "
		       "per thread is not supported", r->pid, r->tid, thread, task);
		return -EOPNOTSUPP;
	}
	return 0;
}

static int dump_prctls(struct remote *r, const ThreadCoreEntry *te, ThreadAttrsEntry *a, bool rt)
{
	struct {
		int which;
		protobuf_c_boolean *has;
		uint32_t *v;
	} spec[] = {
		{ PR_SPEC_STORE_BYPASS, &a->has_spec_store_bypass, &a->spec_store_bypass },
		{ PR_SPEC_INDIRECT_BRANCH, &a->has_spec_indirect_branch, &a->spec_indirect_branch },
		{ PR_SPEC_L1D_FLUSH, &a->has_spec_l1d_flush, &a->spec_l1d_flush },
	};
	uint32_t early, late;
	int32_t tsc;
	long v;
	int ret;

	/* The kernel keeps no timer slack for RT threads. */
	if (!rt) {
		ret = dump_call(r, "prctl(PR_GET_TIMERSLACK)", __NR_prctl, PR_GET_TIMERSLACK, 0,
				false, &v);
		if (ret)
			return ret;
		a->has_timer_slack_ns = v != ATTRS_TIMER_SLACK_DEFAULT;
		a->timer_slack_ns = v;
	}
	ret = dump_call(r, "prctl(PR_GET_TSC)", __NR_prctl, PR_GET_TSC, r->scratch, true, &v);
	if (!ret)
		ret = remote_read(r->pid, r->scratch, &tsc, sizeof(tsc));
	if (!ret) {
		a->has_tsc = tsc != PR_TSC_ENABLE;
		a->tsc = tsc;
	} else if (ret != -EINVAL) {
		return ret;
	}
	for (size_t i = 0; i < ARRAY_SIZE(spec); i++) {
		ret = dump_call(r, "prctl(PR_GET_SPECULATION_CTRL)", __NR_prctl,
				PR_GET_SPECULATION_CTRL, spec[i].which, true, &v);
		if (ret == -EINVAL)
			continue;
		if (ret)
			return ret;
		*spec[i].has = attrs_spec_recordable(v);
		*spec[i].v = v;
	}
	ret = dump_call(r, "prctl(PR_GET_SECUREBITS)", __NR_prctl, PR_GET_SECUREBITS, 0, false, &v);
	if (ret)
		return ret;
	a->has_securebits = v != 0;
	a->securebits = v;
	attrs_secbits_split(v, has_ambient(te), &early, &late);
	if (late && !(te->creds && (te->creds->cap_eff & (1ULL << CAP_SETPCAP)))) {
		pr_err("task %d thread %d: securebits 0x%lx: 0x%x must be set after the creds "
		       "(SECBIT_KEEP_CAPS_LOCKED, or NO_CAP_AMBIENT_RAISE with an ambient set), "
		       "which needs CAP_SETPCAP in the effective set, and the thread has not",
		       r->pid, r->tid, v, late);
		return -EOPNOTSUPP;
	}
	ret = dump_call(r, "prctl(PR_MCE_KILL_GET)", __NR_prctl, PR_MCE_KILL_GET, 0, true, &v);
	if (!ret) {
		a->has_mce_kill = v != PR_MCE_KILL_DEFAULT;
		a->mce_kill = v;
	}
	return ret == -EINVAL ? 0 : ret;
}

static bool thread_attrs_empty(const ThreadAttrsEntry *a)
{
	return !a->sched && !a->has_affinity && !a->has_timer_slack_ns && !a->has_ioprio &&
	       !a->has_tsc && !a->has_spec_store_bypass && !a->has_spec_indirect_branch &&
	       !a->has_spec_l1d_flush && !a->has_securebits && !a->has_mce_kill;
}

int attrs_dump_thread(struct remote *r, ThreadCoreEntry *te)
{
	ThreadAttrsEntry *a = malloc(sizeof(*a));
	bool rt = false;
	long v;
	int ret;

	if (!a)
		return -ENOMEM;
	thread_attrs_entry__init(a);
	te->attrs = a;   /* freed by attrs_free_thread(), also on failure */
	ret = check_io_flusher(r);
	if (!ret)
		ret = check_loginuid(r);
	if (!ret)
		ret = dump_sched(r, a, &rt);
	if (!ret)
		ret = dump_affinity(r, a);
	if (ret)
		return ret;
	v = syscall(SYS_ioprio_get, ATTRS_IOPRIO_WHO_PROCESS, r->tid);
	if (v < 0) {
		ret = -errno;
		pr_err("task %d thread %d: ioprio_get: %s", r->pid, r->tid, errstr(ret));
		return ret;
	}
	a->has_ioprio = v != 0;
	a->ioprio = v;
	ret = dump_prctls(r, te, a, rt);
	if (!ret && thread_attrs_empty(a))
		attrs_free_thread(te);
	return ret;
}

static int dump_proc_task(pid_t pid, TaskAttrsEntry *a)
{
	_cleanup_free_ char *ag = NULL;
	char path[64];
	long v;
	int nice, ret;

	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", pid);
	ret = proc_read_long(path, 10, &v);
	if (ret)
		goto err;
	a->has_oom_score_adj = v != 0;
	a->oom_score_adj = v;
	snprintf(path, sizeof(path), "/proc/%d/coredump_filter", pid);
	ret = proc_read_long(path, 16, &v);
	if (ret)
		goto err;
	a->has_coredump_filter = v != ATTRS_COREDUMP_FILTER_DEFAULT;
	a->coredump_filter = v;
	snprintf(path, sizeof(path), "/proc/%d/loginuid", pid);
	ret = proc_read_long(path, 10, &v);
	if (ret && ret != -ENOENT)
		goto err;
	a->has_loginuid = !ret && (uint32_t)v != ATTRS_LOGINUID_UNSET;
	a->loginuid = v;
	snprintf(path, sizeof(path), "/proc/%d/autogroup", pid);
	ret = proc_read(path, &ag);
	if (ret == -ENOENT)
		return 0;   /* no CONFIG_SCHED_AUTOGROUP */
	if (!ret)
		ret = attrs_autogroup_parse(ag, &v, &nice);
	if (ret)
		goto err;
	a->has_autogroup_nice = nice != 0;
	a->autogroup_nice = nice;
	return 0;
err:
	pr_err("task %d: cannot read %s: %s", pid, path, errstr(ret));
	return ret;
}

static int dump_remote_task(struct remote *r, TaskAttrsEntry *a)
{
	long v;
	int ret;

	ret = dump_call(r, "prctl(PR_GET_MEMORY_MERGE)", __NR_prctl, PR_GET_MEMORY_MERGE, 0, true, &v);
	if (!ret) {
		a->has_memory_merge = v != 0;
		a->memory_merge = v != 0;
	} else if (ret != -EINVAL) {
		return ret;
	}
	ret = dump_call(r, "prctl(PR_GET_MDWE)", __NR_prctl, PR_GET_MDWE, 0, true, &v);
	if (!ret) {
		a->has_mdwe = v != 0;
		a->mdwe = v;
	} else if (ret != -EINVAL) {
		return ret;
	}
	ret = dump_call(r, "membarrier(MEMBARRIER_CMD_GET_REGISTRATIONS)", __NR_membarrier,
			ATTRS_MEMBARRIER_GET_REGISTRATIONS, 0, false, &v);
	if (ret)
		return ret;
	a->has_membarrier = v != 0;
	a->membarrier = v;
	/* Recorded with the memory (mm.proto); checked here, while collecting,
	 * so that the dump refuses before writing anything. */
	ret = dump_call(r, "prctl(PR_GET_DUMPABLE)", __NR_prctl, PR_GET_DUMPABLE, 0, false, &v);
	if (ret)
		return ret;
	if (v > 1) {
		pr_err("task %d: dumpable %ld (SUID_DUMP_ROOT, set by the kernel at a uid change "
		       "or setuid exec under fs.suid_dumpable=2): prctl(PR_SET_DUMPABLE) can set "
		       "only 0 or 1", r->pid, v);
		return -EOPNOTSUPP;
	}
	return 0;
}

int attrs_dump_task(struct remote *r, CoreEntry *ce)
{
	TaskAttrsEntry *a = malloc(sizeof(*a));
	int ret;

	if (!a)
		return -ENOMEM;
	task_attrs_entry__init(a);
	ce->attrs = a;
	ret = dump_proc_task(r->pid, a);
	if (!ret)
		ret = dump_remote_task(r, a);
	if (!ret && !a->has_oom_score_adj && !a->has_loginuid && !a->has_coredump_filter &&
	    !a->has_autogroup_nice && !a->has_memory_merge && !a->has_membarrier && !a->has_mdwe)
		attrs_free_task(ce);
	return ret;
}

void attrs_free_thread(ThreadCoreEntry *te)
{
	if (!te->attrs)
		return;
	free(te->attrs->sched);
	free(te->attrs->affinity.data);
	free(te->attrs);
	te->attrs = NULL;
}

void attrs_free_task(CoreEntry *ce)
{
	free(ce->attrs);
	ce->attrs = NULL;
}

/* ---- restore ---- */

static int rcall(struct rst_call *c, const char *what, long nr, unsigned long a1,
		 unsigned long a2, unsigned long a3)
{
	long r = rst_call(c, what, nr, a1, a2, a3, 0, 0, 0);   /* logs */

	return r < 0 ? (int)r : 0;
}

/* A /proc file of the created task: written when it does not hold val
 * already, then read back. */
static int rst_proc_value(const struct rst_call *c, const char *file, int base, long val,
			  const char *why_eacces)
{
	char path[64], buf[32];
	long now;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/%s", c->t->pid, file);
	ret = proc_read_long(path, base, &now);
	if (!ret && now == val)
		return 0;
	snprintf(buf, sizeof(buf), base == 16 ? "0x%lx" : "%ld", val);
	if (!ret)
		ret = proc_write(path, buf);
	if (!ret)
		ret = proc_read_long(path, base, &now);
	if (!ret && now != val)
		ret = -EPERM;
	if (ret)
		pr_err("task %d: cannot set %s to %s%s: %s", c->t->pid, path, buf,
		       ret == -EACCES && why_eacces ? why_eacces : "", errstr(ret));
	return ret;
}

static int rst_autogroup(const struct rst_call *c, int nice)
{
	_cleanup_free_ char *mine = NULL, *theirs = NULL;
	long my_id, id;
	int my_nice, now, ret;
	char path[64], buf[16];

	snprintf(path, sizeof(path), "/proc/%d/autogroup", c->t->pid);
	ret = proc_read(path, &theirs);
	if (!ret)
		ret = attrs_autogroup_parse(theirs, &id, &now);
	if (!ret)
		ret = proc_read("/proc/self/autogroup", &mine);
	if (!ret)
		ret = attrs_autogroup_parse(mine, &my_id, &my_nice);
	if (ret) {
		pr_err("task %d: cannot read its autogroup or minicr's: %s", c->t->pid, errstr(ret));
		return ret;
	}
	if (now == nice)
		return 0;
	if (id == my_id) {
		pr_err("task %d: autogroup nice %d: the task is in minicr's autogroup (its session "
		       "was not recreated), whose nice minicr will not change", c->t->pid, nice);
		return -EOPNOTSUPP;
	}
	snprintf(buf, sizeof(buf), "%d", nice);
	ret = proc_write(path, buf);
	if (ret)
		pr_err("task %d: cannot write %d to %s: %s", c->t->pid, nice, path, errstr(ret));
	return ret;
}

int attrs_rst_task(struct rst_call *c, const CoreEntry *ce)
{
	const TaskAttrsEntry *a = ce->attrs;
	TaskAttrsEntry def = TASK_ATTRS_ENTRY__INIT;
	long mine;
	int ret;

	if (!a)
		a = &def;
	ret = rst_proc_value(c, "oom_score_adj", 10, a->has_oom_score_adj ? a->oom_score_adj : 0,
			     " (below the oom_score_adj_min it inherited from minicr; lowering it "
			     "needs CAP_SYS_RESOURCE)");
	if (!ret)
		ret = rst_proc_value(c, "coredump_filter", 16,
				     a->has_coredump_filter ? a->coredump_filter
							    : ATTRS_COREDUMP_FILTER_DEFAULT, NULL);
	if (!ret && a->has_autogroup_nice)
		ret = rst_autogroup(c, a->autogroup_nice);
	if (ret)
		return ret;
	/* The created task inherited it from minicr. */
	mine = prctl(PR_GET_MEMORY_MERGE, 0, 0, 0, 0);
	if (!ret && (mine > 0) != (a->has_memory_merge && a->memory_merge))
		ret = rcall(c, "prctl(PR_SET_MEMORY_MERGE)", __NR_prctl, PR_SET_MEMORY_MERGE,
			    a->memory_merge, 0);
	/* Registrations of a fresh mm are none; the commands are the bits. */
	for (unsigned bit = 0; !ret && bit < 32; bit++) {
		char what[64];

		if (!(a->membarrier & (1u << bit)))
			continue;
		snprintf(what, sizeof(what), "membarrier(register 0x%x)", 1u << bit);
		ret = rcall(c, what, __NR_membarrier, 1u << bit, 0, 0);
	}
	return ret;
}

static int rst_loginuid(struct rst_call *c, uint32_t uid)
{
	static const char path[] = "/proc/thread-self/loginuid";
	char tpath[64], buf[16];
	long now, fd;
	int ret;

	snprintf(tpath, sizeof(tpath), "/proc/%d/task/%d/loginuid", c->t->pid, c->tid);
	ret = proc_read_long(tpath, 10, &now);
	if (ret == -ENOENT && uid == ATTRS_LOGINUID_UNSET)
		return 0;
	if (ret) {
		pr_err("task %d thread %d: cannot read %s: %s", c->t->pid, c->tid, tpath, errstr(ret));
		return ret;
	}
	if ((uint32_t)now == uid)
		return 0;
	/* Only the thread itself may write its loginuid. */
	snprintf(buf, sizeof(buf), "%u", uid);
	ret = rst_call_put(c, 0, path, sizeof(path));
	if (!ret)
		ret = rst_call_put(c, ATTRS_SCRATCH_STR, buf, strlen(buf));
	if (ret)
		return ret;
	fd = rst_call(c, "open(\"/proc/thread-self/loginuid\")", __NR_open, rst_scratch(c, 0),
		      O_WRONLY | O_CLOEXEC, 0, 0, 0, 0);
	if (fd < 0)
		return fd;
	ret = rcall(c, "write(loginuid)", __NR_write, fd, rst_scratch(c, ATTRS_SCRATCH_STR),
		    strlen(buf));
	if (rcall(c, "close(loginuid)", __NR_close, fd, 0, 0) && !ret)
		ret = -EIO;
	if (!ret && (proc_read_long(tpath, 10, &now) || (uint32_t)now != uid)) {
		pr_err("task %d thread %d: loginuid is %ld after writing %u", c->t->pid, c->tid,
		       now, uid);
		ret = -EPERM;
	}
	return ret;
}

static bool sched_rt(const ThreadCoreEntry *te)
{
	return te->attrs && te->attrs->sched && attrs_policy_is_rt(te->attrs->sched->policy);
}

static int rst_spec(struct rst_call *c, int which, uint32_t v)
{
	char what[64];

	snprintf(what, sizeof(what), "prctl(PR_SET_SPECULATION_CTRL, %d, 0x%x)", which,
		 v & ~(uint32_t)PR_SPEC_PRCTL);
	return rcall(c, what, __NR_prctl, PR_SET_SPECULATION_CTRL, which, v & ~PR_SPEC_PRCTL);
}

int attrs_rst_thread(struct rst_call *c, const CoreEntry *ce, const ThreadCoreEntry *te)
{
	ThreadAttrsEntry def = THREAD_ATTRS_ENTRY__INIT;
	const ThreadAttrsEntry *a = te->attrs ? te->attrs : &def;
	uint32_t secbits, late;
	uint64_t slack = a->has_timer_slack_ns ? a->timer_slack_ns : ATTRS_TIMER_SLACK_DEFAULT;
	uint32_t mce = a->has_mce_kill ? a->mce_kill : PR_MCE_KILL_DEFAULT;
	uint32_t tsc = a->has_tsc ? a->tsc : PR_TSC_ENABLE;
	int mine_tsc = PR_TSC_ENABLE;
	int ret = 0;

	attrs_secbits_split(a->has_securebits ? a->securebits : 0, has_ambient(te), &secbits, &late);
	if (ce->attrs && ce->attrs->has_loginuid)
		ret = rst_loginuid(c, ce->attrs->loginuid);
	else
		ret = rst_loginuid(c, ATTRS_LOGINUID_UNSET);
	/* The thread holds minicr's values for what is not set here. */
	if (!ret && prctl(PR_GET_SECUREBITS, 0, 0, 0, 0) != (long)secbits)
		ret = rcall(c, "prctl(PR_SET_SECUREBITS)", __NR_prctl, PR_SET_SECUREBITS, secbits, 0);
	if (!ret && !sched_rt(te) && (uint64_t)prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0) != slack)
		ret = rcall(c, "prctl(PR_SET_TIMERSLACK)", __NR_prctl, PR_SET_TIMERSLACK, slack, 0);
	prctl(PR_GET_TSC, &mine_tsc, 0, 0, 0);
	if (!ret && (uint32_t)mine_tsc != tsc)
		ret = rcall(c, "prctl(PR_SET_TSC)", __NR_prctl, PR_SET_TSC, tsc, 0);
	if (!ret && prctl(PR_MCE_KILL_GET, 0, 0, 0, 0) != (long)mce)
		ret = rcall(c, "prctl(PR_MCE_KILL)", __NR_prctl, PR_MCE_KILL,
			    mce == PR_MCE_KILL_DEFAULT ? PR_MCE_KILL_CLEAR : PR_MCE_KILL_SET,
			    mce == PR_MCE_KILL_DEFAULT ? 0 : mce);
	if (!ret && a->has_spec_store_bypass)
		ret = rst_spec(c, PR_SPEC_STORE_BYPASS, a->spec_store_bypass);
	if (!ret && a->has_spec_indirect_branch)
		ret = rst_spec(c, PR_SPEC_INDIRECT_BRANCH, a->spec_indirect_branch);
	if (!ret && a->has_spec_l1d_flush)
		ret = rst_spec(c, PR_SPEC_L1D_FLUSH, a->spec_l1d_flush);
	return ret;
}

static bool sched_matches(const struct kattr *k, const struct kattr *want, bool util)
{
	return k->policy == want->policy && k->priority == want->priority &&
	       (k->flags & ATTRS_FLAG_RESET_ON_FORK) == (want->flags & ATTRS_FLAG_RESET_ON_FORK) &&
	       k->nice == want->nice &&
	       (!util || (k->util_min == want->util_min && k->util_max == want->util_max));
}

static int set_sched(const struct rst_call *c, const struct kattr *k)
{
	int ret;

	if (syscall(SYS_sched_setattr, c->tid, k, 0) == 0)
		return 0;
	ret = -errno;
	pr_err("task %d thread %d: sched_setattr(policy %u, nice %d, priority %u, flags 0x%llx, "
	       "uclamp %u-%u): %s", c->t->pid, c->tid, k->policy, k->nice, k->priority,
	       (unsigned long long)k->flags, k->util_min, k->util_max, errstr(ret));
	return ret;
}

/* From minicr: sched_setattr() works on another task's TID. It sets no
 * nice with an RT policy; setpriority() does. */
static int rst_sched(const struct rst_call *c, const SchedAttrEntry *e)
{
	struct kattr want = { .size = ATTRS_SCHED_ATTR_SIZE }, now;
	bool util = e && e->has_util_min && e->has_util_max;
	int ret;

	if (e) {
		want.policy = e->policy;
		want.flags = e->flags & ATTRS_FLAG_RESET_ON_FORK;
		want.nice = e->nice;
		want.priority = e->rt_priority;
		if (util) {
			want.flags |= ATTRS_FLAG_UTIL_CLAMP;
			want.util_min = e->util_min;
			want.util_max = e->util_max;
		}
	}
	ret = sched_get(c->t->pid, c->tid, &now);
	if (ret || sched_matches(&now, &want, util))
		return ret;
	ret = set_sched(c, &want);
	if (!ret && attrs_policy_is_rt(want.policy) &&
	    setpriority(PRIO_PROCESS, c->tid, want.nice) < 0) {
		ret = -errno;
		pr_err("task %d thread %d: setpriority(%d): %s", c->t->pid, c->tid, want.nice,
		       errstr(ret));
	}
	if (!ret)
		ret = sched_get(c->t->pid, c->tid, &now);
	if (!ret && !sched_matches(&now, &want, util)) {
		pr_err("task %d thread %d: scheduling is policy %u nice %d priority %u after "
		       "setting policy %u nice %d priority %u", c->t->pid, c->tid, now.policy,
		       now.nice, now.priority, want.policy, want.nice, want.priority);
		ret = -EIO;
	}
	return ret;
}

static int rst_affinity(const struct rst_call *c, const ThreadAttrsEntry *a)
{
	uint8_t online[ATTRS_CPUSET_BYTES], now[ATTRS_CPUSET_BYTES];
	const uint8_t *want = online;
	size_t want_len = sizeof(online);
	char s1[256], s2[256];
	long n;
	int ret;

	ret = online_cpus(online, sizeof(online));
	if (ret) {
		pr_err("task %d thread %d: cannot read /sys/devices/system/cpu/online: %s",
		       c->t->pid, c->tid, errstr(ret));
		return ret;
	}
	if (a && a->has_affinity) {
		want = a->affinity.data;
		want_len = a->affinity.len;
		if (!attrs_mask_subset(want, want_len, online, sizeof(online))) {
			attrs_cpulist_format(want, want_len, s1, sizeof(s1));
			attrs_cpulist_format(online, sizeof(online), s2, sizeof(s2));
			pr_err("task %d thread %d: CPU affinity %s names CPUs this machine does not "
			       "have online (online: %s)", c->t->pid, c->tid, s1, s2);
			return -EINVAL;
		}
	}
	n = syscall(SYS_sched_getaffinity, c->tid, sizeof(now), now);
	if (n >= 0 && attrs_mask_equal(now, n, want, want_len))
		return 0;
	if (n >= 0)
		n = syscall(SYS_sched_setaffinity, c->tid, want_len, want);
	/* Every online CPU, as for a fresh task: a cpuset may allow fewer. */
	if (n >= 0 && want == online)
		return 0;
	if (n >= 0)
		n = syscall(SYS_sched_getaffinity, c->tid, sizeof(now), now);
	if (n >= 0 && attrs_mask_equal(now, n, want, want_len))
		return 0;
	ret = n < 0 ? -errno : -EPERM;
	attrs_cpulist_format(want, want_len, s1, sizeof(s1));
	pr_err("task %d thread %d: cannot set CPU affinity %s: %s", c->t->pid, c->tid, s1,
	       errstr(ret));
	return ret;
}

int attrs_rst_thread_late(struct rst_call *c, const ThreadCoreEntry *te)
{
	const ThreadAttrsEntry *a = te->attrs;
	uint32_t ioprio = a && a->has_ioprio ? a->ioprio : 0, early, late = 0;
	long now;
	int ret = 0;

	if (a && a->has_securebits)
		attrs_secbits_split(a->securebits, has_ambient(te), &early, &late);
	/* Needs CAP_SETPCAP in the restored effective set (checked at dump). */
	if (late)
		ret = rcall(c, "prctl(PR_SET_SECUREBITS)", __NR_prctl, PR_SET_SECUREBITS,
			    a->securebits, 0);
	if (!ret)
		ret = rst_sched(c, a ? a->sched : NULL);
	if (!ret)
		ret = rst_affinity(c, a);
	if (ret)
		return ret;
	now = syscall(SYS_ioprio_get, ATTRS_IOPRIO_WHO_PROCESS, c->tid);
	if (now == (long)ioprio)
		return 0;
	if (syscall(SYS_ioprio_set, ATTRS_IOPRIO_WHO_PROCESS, c->tid, ioprio) < 0) {
		ret = -errno;
		pr_err("task %d thread %d: ioprio_set(class %u, level %u): %s", c->t->pid, c->tid,
		       ioprio >> 13, ioprio & 0x1fff, errstr(ret));
	}
	return ret;
}

int attrs_rst_task_late(struct rst_call *c, const CoreEntry *ce)
{
	const TaskAttrsEntry *a = ce->attrs;

	/* Last: it refuses executable mappings from here on (rst_mem_finish()
	 * after it only unmaps). */
	if (a && a->has_mdwe)
		return rcall(c, "prctl(PR_SET_MDWE)", __NR_prctl, PR_SET_MDWE, a->mdwe, 0);
	return 0;
}
