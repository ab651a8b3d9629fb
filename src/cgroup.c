#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.pb-c.h"
#include "image.h"
#include "log.h"
#include "refuse.h"
#include "util.h"

#define CG_FILE_MAX (64 * 1024)

/* ---- pure parts ---- */

void cg_members_free(struct cg_member *m, size_t nr)
{
	for (size_t i = 0; m && i < nr; i++) {
		free(m[i].controllers);
		free(m[i].path);
	}
	free(m);
}

int cg_proc_parse(const char *buf, struct cg_member **out, size_t *nr)
{
	struct cg_member *m = NULL;
	size_t n = 0;
	int ret = 0;

	while (*buf) {
		const char *end = strchrnul(buf, '\n');
		const char *c1 = memchr(buf, ':', end - buf);
		const char *c2 = c1 ? memchr(c1 + 1, ':', end - c1 - 1) : NULL;
		struct cg_member *nm;

		if (end == buf) {
			buf = *end ? end + 1 : end;
			continue;
		}
		if (!c1 || !c2 || c2[1] != '/') {
			ret = -EINVAL;
			goto out;
		}
		nm = realloc(m, (n + 1) * sizeof(*m));
		if (!nm) {
			ret = -ENOMEM;
			goto out;
		}
		m = nm;
		m[n].controllers = strndup(c1 + 1, c2 - c1 - 1);
		m[n].path = strndup(c2 + 1, end - c2 - 1);
		n++;
		if (!m[n - 1].controllers || !m[n - 1].path) {
			ret = -ENOMEM;
			goto out;
		}
		buf = *end ? end + 1 : end;
	}
out:
	if (ret) {
		cg_members_free(m, n);
		return ret;
	}
	*out = m;
	*nr = n;
	return 0;
}

/* mountinfo escapes blanks, tabs, newlines and backslashes as \ooo. */
static char *unescape(const char *s, size_t len)
{
	char *r = malloc(len + 1), *p = r;

	if (!r)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 3 < len &&
		    s[i + 1] >= '0' && s[i + 1] <= '7') {
			*p++ = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
			i += 3;
		} else {
			*p++ = s[i];
		}
	}
	*p = '\0';
	return r;
}

/* Is every comma-separated token of want in the comma-separated opts? */
static bool all_in(const char *want, const char *opts, size_t opts_len)
{
	while (*want) {
		size_t wl = strcspn(want, ",");
		const char *o = opts, *oend = opts + opts_len;
		bool found = false;

		while (o < oend && !found) {
			const char *c = memchr(o, ',', oend - o);
			size_t ol = (c ? c : oend) - o;

			found = ol == wl && !memcmp(o, want, wl);
			o += ol + 1;
		}
		if (!found)
			return false;
		want += wl;
		if (*want == ',')
			want++;
	}
	return true;
}

int cg_mount_find(const char *mi, const char *controllers, char **dir)
{
	bool v2 = !*controllers;

	while (*mi) {
		const char *end = strchrnul(mi, '\n');
		const char *f[5], *p = mi, *sep;
		size_t i;

		/* id parent dev root mountpoint ... - fstype source superopts */
		for (i = 0; i < 5 && p < end; i++) {
			f[i] = p;
			p = memchr(p, ' ', end - p);
			if (!p)
				break;
			p++;
		}
		sep = i == 5 ? strstr(f[4], " - ") : NULL;
		if (sep && sep < end) {
			const char *fs = sep + 3, *src = memchr(fs, ' ', end - fs);
			const char *opts = src ? memchr(src + 1, ' ', end - src - 1) : NULL;
			size_t fsl = src ? (size_t)(src - fs) : 0;
			bool root = f[4] - f[3] == 2 && f[3][0] == '/';
			bool match;

			if (v2)
				match = fsl == 7 && !memcmp(fs, "cgroup2", 7);
			else
				match = fsl == 6 && !memcmp(fs, "cgroup", 6) && opts &&
					all_in(controllers, opts + 1, end - opts - 1);
			if (match && root) {
				*dir = unescape(f[4], strchr(f[4], ' ') - f[4]);
				return *dir ? 0 : -ENOMEM;
			}
		}
		mi = *end ? end + 1 : end;
	}
	return -ENOENT;
}

bool cg_path_under(const char *path, const char *base)
{
	size_t bl = strlen(base);

	if (!strcmp(base, "/"))
		return path[0] == '/';
	return !strncmp(path, base, bl) && (path[bl] == '\0' || path[bl] == '/');
}

char *cg_path_ancestor(const char *a, const char *b)
{
	size_t last = 0, i;

	for (i = 0; a[i] && a[i] == b[i]; i++)
		if (a[i] == '/')
			last = i;
	/* The whole of the shorter one, if the other goes on below it. */
	if ((!a[i] && (!b[i] || b[i] == '/')) || (!b[i] && a[i] == '/'))
		last = i;
	return last ? strndup(a, last) : strdup("/");
}

char *cg_path_map(const char *path, const char *base, const char *root)
{
	const char *rest;
	char *r;

	if (!cg_path_under(path, base))
		return NULL;
	rest = strcmp(base, "/") ? path + strlen(base) : path;
	if (!strcmp(rest, "/"))
		rest = "";
	if (!*rest)
		return strdup(root);
	if (asprintf(&r, "%s%s", strcmp(root, "/") ? root : "", rest) < 0)
		return NULL;
	return r;
}

bool cg_path_valid(const char *path)
{
	const char *p = path;

	if (path[0] != '/')
		return false;
	if (!strcmp(path, "/"))
		return true;
	while (*p == '/') {
		size_t l = strcspn(p + 1, "/");

		if (!l || (l == 1 && p[1] == '.') || (l == 2 && !strncmp(p + 1, "..", 2)))
			return false;
		p += l + 1;
	}
	return *p == '\0';
}

struct cg_prop {
	const char *pattern;    /* fnmatch() */
	const char *def;        /* a new cgroup's value; NULL: always recorded */
};

/* The settings a tree's cgroup may carry that restore writes back, in the
 * order they are written (a period before its quota, a limit before the
 * one that must not be below it, cpus before the partition). */
static const struct cg_prop v2_props[] = {
	{ "cgroup.subtree_control", "" },
	{ "cgroup.max.depth", "max" },
	{ "cgroup.max.descendants", "max" },
	{ "cpuset.cpus", "" },
	{ "cpuset.mems", "" },
	{ "cpuset.cpus.exclusive", "" },
	{ "cpuset.cpus.partition", "member" },
	{ "cpu.weight", "100" },
	{ "cpu.max", "max 100000" },
	{ "cpu.max.burst", "0" },
	{ "cpu.idle", "0" },
	{ "cpu.uclamp.min", "0.00" },
	{ "cpu.uclamp.max", "max" },
	{ "memory.min", "0" },
	{ "memory.low", "0" },
	{ "memory.high", "max" },
	{ "memory.max", "max" },
	{ "memory.swap.high", "max" },
	{ "memory.swap.max", "max" },
	{ "memory.zswap.max", "max" },
	{ "memory.zswap.writeback", "1" },
	{ "memory.oom.group", "0" },
	{ "pids.max", "max" },
	{ "io.weight", "default 100" },
	{ "hugetlb.*.max", "max" },
};

#define V1_NO_LIMIT "9223372036854771712"   /* PAGE_COUNTER_MAX in bytes, 4 KiB pages */

static const struct cg_prop v1_props[] = {
	{ "cgroup.clone_children", "0" },
	{ "notify_on_release", "0" },
	{ "cpuset.cpus", NULL },        /* empty in a new cpuset: no task may join */
	{ "cpuset.mems", NULL },
	{ "cpu.shares", "1024" },
	{ "cpu.cfs_period_us", "100000" },
	{ "cpu.cfs_quota_us", "-1" },
	{ "cpu.cfs_burst_us", "0" },
	{ "cpu.idle", "0" },
	{ "memory.limit_in_bytes", V1_NO_LIMIT },
	{ "memory.memsw.limit_in_bytes", V1_NO_LIMIT },
	{ "memory.soft_limit_in_bytes", V1_NO_LIMIT },
	{ "memory.kmem.tcp.limit_in_bytes", V1_NO_LIMIT },
	{ "pids.max", "max" },
};

int cg_prop_index(bool v2, const char *name)
{
	const struct cg_prop *t = v2 ? v2_props : v1_props;
	size_t n = v2 ? ARRAY_SIZE(v2_props) : ARRAY_SIZE(v1_props);

	for (size_t i = 0; i < n; i++)
		if (!fnmatch(t[i].pattern, name, 0))
			return (int)i;
	return -1;
}

const char *cg_prop_default(bool v2, int index)
{
	return v2 ? v2_props[index].def : v1_props[index].def;
}

/* Writable files that hold no setting of their own: membership, one-shot
 * actions, pressure triggers (per open file), resettable counters, another
 * view of a recorded setting (cpu.weight.nice of cpu.weight). */
static const char *const cg_not_settings[] = {
	"cgroup.procs", "cgroup.threads", "tasks", "cgroup.event_control", "cgroup.kill",
	"memory.force_empty", "memory.reclaim", "*.pressure", "*failcnt",
	"*max_usage_in_bytes", "*.peak", "*.reset_stats", "cpu.weight.nice",
};

bool cg_file_compared(bool v2, const char *name)
{
	if (cg_prop_index(v2, name) >= 0)
		return false;   /* recorded */
	for (size_t i = 0; i < ARRAY_SIZE(cg_not_settings); i++)
		if (!fnmatch(cg_not_settings[i], name, 0))
			return false;
	return true;
}

bool cg_value_same(const char *name, const char *a, const char *b)
{
	/* Its later lines are state and a counter (under_oom, oom_kill). */
	if (!strcmp(name, "memory.oom_control"))
		return strcspn(a, "\n") == strcspn(b, "\n") && !strncmp(a, b, strcspn(a, "\n"));
	return !strcmp(a, b);
}

/* ---- reading and writing cgroup directories ---- */

struct cg_kv {
	int index;
	char *name, *value;
};

static void kvs_free(struct cg_kv *kv, size_t nr)
{
	for (size_t i = 0; kv && i < nr; i++) {
		free(kv[i].name);
		free(kv[i].value);
	}
	free(kv);
}

static int kv_cmp(const void *a, const void *b)
{
	const struct cg_kv *x = a, *y = b;

	if (x->index != y->index)
		return x->index - y->index;
	return strcmp(x->name, y->name);
}

/* Every tracked setting file of the cgroup directory dir, with its value,
 * in write order. */
static int read_props(const char *dir, bool v2, struct cg_kv **out, size_t *nr)
{
	struct cg_kv *kv = NULL;
	struct dirent *de;
	size_t n = 0;
	int ret = 0;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		int idx = cg_prop_index(v2, de->d_name);
		_cleanup_free_ char *path = NULL;
		struct cg_kv *nk;
		char *val = NULL;
		size_t len;

		if (idx < 0)
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0) {
			ret = -ENOMEM;
			break;
		}
		ret = read_file(path, CG_FILE_MAX, &val, &len);
		if (ret) {
			pr_err("cannot read %s: %s", path, errstr(ret));
			break;
		}
		while (len && val[len - 1] == '\n')
			val[--len] = '\0';
		nk = realloc(kv, (n + 1) * sizeof(*kv));
		if (!nk) {
			free(val);
			ret = -ENOMEM;
			break;
		}
		kv = nk;
		kv[n].index = idx;
		kv[n].value = val;
		kv[n].name = strdup(de->d_name);
		n++;
		if (!kv[n - 1].name) {
			ret = -ENOMEM;
			break;
		}
	}
	closedir(d);
	if (ret) {
		kvs_free(kv, n);
		return ret;
	}
	if (n)
		qsort(kv, n, sizeof(*kv), kv_cmp);
	*out = kv;
	*nr = n;
	return 0;
}

static int write_str(const char *path, const char *s)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return write_all(fd, s, strlen(s));
}

/* One write per line (io.weight takes one device per write); for
 * subtree_control, one "+controller" per write. */
static int write_prop(const char *dir, const char *name, const char *value)
{
	bool subtree = !strcmp(name, "cgroup.subtree_control");
	_cleanup_free_ char *path = NULL;
	const char *p = value;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return -ENOMEM;
	while (*p) {
		size_t l = strcspn(p, subtree ? " \n" : "\n");
		char one[512];
		int ret;

		if (l) {
			if (l + 2 > sizeof(one))
				return -E2BIG;
			snprintf(one, sizeof(one), "%s%.*s", subtree ? "+" : "", (int)l, p);
			ret = write_str(path, one);
			if (ret) {
				pr_err("cgroup %s: cannot write '%s' to %s: %s", dir, one, name,
				       errstr(ret));
				return ret;
			}
		}
		p += l;
		if (*p)
			p++;
	}
	return 0;
}

static bool word_in(const char *w, size_t wl, const char *list)
{
	while (*list) {
		size_t l = strcspn(list, " ");

		if (l == wl && !strncmp(list, w, wl))
			return true;
		list += l;
		list += strspn(list, " ");
	}
	return false;
}

/* ---- dump ---- */

struct cg_node {
	char *ctrl, *path;
	bool base;
	struct cg_kv *props;
	size_t nr_props;
};

struct cg_task {
	pid_t pid;
	uint32_t *idx;
	size_t nr;
};

struct cg_dump {
	struct cg_node *nodes;
	size_t nr_nodes;
	struct cg_task *tasks;
	size_t nr_tasks;
};

static int node_find_add(struct cg_dump *d, const char *ctrl, const char *path, uint32_t *idx)
{
	struct cg_node *nn;

	for (size_t i = 0; i < d->nr_nodes; i++)
		if (!strcmp(d->nodes[i].ctrl, ctrl) && !strcmp(d->nodes[i].path, path)) {
			*idx = i;
			return 0;
		}
	nn = realloc(d->nodes, (d->nr_nodes + 1) * sizeof(*nn));
	if (!nn)
		return -ENOMEM;
	d->nodes = nn;
	nn = &d->nodes[d->nr_nodes];
	memset(nn, 0, sizeof(*nn));
	nn->ctrl = strdup(ctrl);
	nn->path = strdup(path);
	*idx = d->nr_nodes++;
	return nn->ctrl && nn->path ? 0 : -ENOMEM;
}

static const char *hier_name(const char *ctrl)
{
	return *ctrl ? ctrl : "cgroup v2";
}

static int read_cgroup_file(pid_t pid, pid_t tid, char **buf)
{
	char path[64];

	if (tid)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/cgroup", pid, tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	return read_file(path, CG_FILE_MAX, buf, NULL);
}

static int same_cgroup_ns(pid_t pid, const char *mine)
{
	char path[64], link[64];
	ssize_t l;

	snprintf(path, sizeof(path), "/proc/%d/ns/cgroup", pid);
	l = readlink(path, link, sizeof(link) - 1);
	if (l < 0)
		return -errno;
	link[l] = '\0';
	return !strcmp(link, mine);
}

/* The cgroups of one task (and the check of its threads and namespace). */
static int collect_task(struct cg_dump *d, const struct pstree_task *t, const char *myns,
			struct cg_task *ct)
{
	_cleanup_free_ char *buf = NULL;
	struct cg_member *m = NULL;
	size_t nr = 0;
	int ret;

	ct->pid = t->pid;
	if (!t->zombie) {
		ret = same_cgroup_ns(t->pid, myns);
		if (ret <= 0) {
			if (!ret)
				pr_err("task %d: cgroup namespace: not minicr's; its cgroup paths "
				       "cannot be restored", t->pid);
			else
				pr_err("task %d: cannot read its cgroup namespace: %s", t->pid,
				       errstr(ret));
			return ret ? ret : -EOPNOTSUPP;
		}
	}
	ret = read_cgroup_file(t->pid, 0, &buf);
	if (ret) {
		pr_err("task %d: cannot read /proc/%d/cgroup: %s", t->pid, t->pid, errstr(ret));
		return ret;
	}
	for (size_t i = 1; !t->zombie && i < t->nr_tids; i++) {
		_cleanup_free_ char *tb = NULL;

		ret = read_cgroup_file(t->pid, t->tids[i], &tb);
		if (ret) {
			pr_err("task %d thread %d: cannot read its cgroup file: %s", t->pid,
			       t->tids[i], errstr(ret));
			return ret;
		}
		if (strcmp(tb, buf)) {
			pr_err("task %d thread %d: cgroup membership: the thread is in other "
			       "cgroups than its leader (threaded cgroup or a v1 move of one "
			       "thread); restore moves whole processes", t->pid, t->tids[i]);
			return -EOPNOTSUPP;
		}
	}
	ret = cg_proc_parse(buf, &m, &nr);
	if (ret) {
		pr_err("task %d: cannot parse /proc/%d/cgroup: %s", t->pid, t->pid, errstr(ret));
		goto out;
	}
	ct->idx = calloc(nr ? nr : 1, sizeof(*ct->idx));
	if (!ct->idx) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nr; i++) {
		if (t->zombie && *m[i].controllers)
			continue;
		ret = node_find_add(d, m[i].controllers, m[i].path, &ct->idx[ct->nr]);
		if (ret)
			goto out;
		ct->nr++;
	}
out:
	cg_members_free(m, nr);
	return ret;
}

/* Per hierarchy: the base, and the cgroups between it and each task's. */
static int add_ancestors(struct cg_dump *d)
{
	size_t nr = d->nr_nodes;

	for (size_t i = 0; i < nr; i++) {
		_cleanup_free_ char *base = NULL;
		uint32_t idx;
		int ret;

		if (d->nodes[i].base)
			continue;
		base = strdup(d->nodes[i].path);
		if (!base)
			return -ENOMEM;
		for (size_t j = 0; j < nr; j++) {
			char *a;

			if (strcmp(d->nodes[j].ctrl, d->nodes[i].ctrl))
				continue;
			a = cg_path_ancestor(base, d->nodes[j].path);
			if (!a)
				return -ENOMEM;
			free(base);
			base = a;
		}
		ret = node_find_add(d, d->nodes[i].ctrl, base, &idx);
		if (ret)
			return ret;
		d->nodes[idx].base = true;
		/* From each task cgroup up to the base. */
		for (size_t j = 0; j < nr; j++) {
			_cleanup_free_ char *p = NULL;
			char *slash;

			if (strcmp(d->nodes[j].ctrl, d->nodes[i].ctrl))
				continue;
			p = strdup(d->nodes[j].path);
			if (!p)
				return -ENOMEM;
			while (strcmp(p, base) && (slash = strrchr(p, '/'))) {
				if (slash == p)
					slash[1] = '\0';
				else
					*slash = '\0';
				ret = node_find_add(d, d->nodes[i].ctrl, p, &idx);
				if (ret)
					return ret;
			}
		}
	}
	return 0;
}

/* A setting file is one the kernel lets root write and read back, or the
 * devices whitelist (written through devices.allow/deny). */
static bool is_setting_file(int dfd, const char *name)
{
	struct stat st;

	if (fstatat(dfd, name, &st, 0) || !S_ISREG(st.st_mode))
		return false;
	if (!strcmp(name, "devices.list"))
		return true;
	return (st.st_mode & S_IWUSR) && (st.st_mode & S_IRUSR);
}

static int read_setting(int dfd, const char *name, char **val)
{
	size_t len;
	int ret;

	ret = read_file_at(dfd, name, CG_FILE_MAX, val, &len);
	if (!ret)
		while (len && (*val)[len - 1] == '\n')
			(*val)[--len] = '\0';
	return ret;
}

/* Settings minicr does not record must be what restore's mkdir gives: each
 * is compared with a probe cgroup made beside the node (same parent, so
 * what a new cgroup inherits there is the same), then removed. The root
 * cgroup is never made again: nothing to compare; nor are minicr's own
 * cgroups (node_settings()). */
static int node_untracked(const struct cg_node *n, const char *dir, struct refusals *r)
{
	_cleanup_free_ char *probe = NULL;
	_cleanup_close_ int dfd = -1, pfd = -1;
	bool v2 = !*n->ctrl;
	struct dirent *de;
	DIR *d = NULL;
	int ret = 0;

	if (!strcmp(n->path, "/"))
		return 0;
	if (asprintf(&probe, "%.*s/.minicr-probe-%d", (int)(strrchr(dir, '/') - dir), dir,
		     (int)getpid()) < 0)
		return -ENOMEM;
	if (mkdir(probe, 0755)) {
		ret = -errno;
		refuse(r, "cgroup %s (%s): cannot make the probe cgroup %s that tells a new "
		       "cgroup's settings: %s", n->path, hier_name(n->ctrl), probe, errstr(ret));
		return 0;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	pfd = open(probe, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || pfd < 0 || !(d = opendir(dir))) {
		ret = -errno;
		pr_err("cgroup %s (%s): cannot open %s or %s: %s", n->path, hier_name(n->ctrl),
		       dir, probe, errstr(ret));
		goto out;
	}
	while ((de = readdir(d))) {
		_cleanup_free_ char *mine = NULL, *fresh = NULL;
		int rm, rf;

		if (!cg_file_compared(v2, de->d_name) || !is_setting_file(dfd, de->d_name))
			continue;
		rm = read_setting(dfd, de->d_name, &mine);
		rf = read_setting(pfd, de->d_name, &fresh);
		if (rm == -EINVAL || rm == -EOPNOTSUPP)
			continue;   /* no read side after all */
		if (rm) {
			ret = rm;
			pr_err("cgroup %s (%s): cannot read %s/%s: %s", n->path, hier_name(n->ctrl),
			       dir, de->d_name, errstr(ret));
			break;
		}
		if (!rf && cg_value_same(de->d_name, mine, fresh))
			continue;
		refuse(r, "cgroup %s (%s): %s is '%s', a new cgroup has '%s': minicr does not "
		       "record this setting", n->path, hier_name(n->ctrl), de->d_name, mine,
		       rf ? errstr(rf) : fresh);
	}
out:
	if (d)
		closedir(d);
	if (rmdir(probe) && !ret) {
		ret = -errno;
		pr_err("cannot remove the probe cgroup %s: %s", probe, errstr(ret));
	}
	return ret;
}

/* Read the node's settings, keeping those that are not the default. */
static int node_settings(struct cg_node *n, const char *mnt, bool callers,
			 struct refusals *r)
{
	bool v2 = !*n->ctrl;
	_cleanup_free_ char *dir = NULL;
	struct cg_kv *kv = NULL;
	size_t nr = 0, keep = 0;
	int ret;

	if (asprintf(&dir, "%s%s", mnt, strcmp(n->path, "/") ? n->path : "") < 0)
		return -ENOMEM;
	if (v2 && strcmp(n->path, "/")) {
		_cleanup_free_ char *type = NULL, *tp = NULL;

		if (asprintf(&tp, "%s/cgroup.type", dir) < 0)
			return -ENOMEM;
		ret = read_file(tp, 256, &type, NULL);
		if (ret) {
			pr_err("cgroup %s: cannot read %s: %s", n->path, tp, errstr(ret));
			return ret;
		}
		type[strcspn(type, "\n")] = '\0';
		if (strcmp(type, "domain")) {
			pr_err("cgroup %s (cgroup v2): cgroup.type is '%s': only domain cgroups "
			       "are restored", n->path, type);
			return -EOPNOTSUPP;
		}
	}
	ret = read_props(dir, v2, &kv, &nr);
	if (ret) {
		pr_err("cgroup %s (%s): cannot read its settings in %s: %s", n->path,
		       hier_name(n->ctrl), dir, errstr(ret));
		return ret;
	}
	for (size_t i = 0; i < nr; i++) {
		const char *def = cg_prop_default(v2, kv[i].index);

		if (def && !strcmp(def, kv[i].value)) {
			free(kv[i].name);
			free(kv[i].value);
			continue;
		}
		kv[keep++] = kv[i];
	}
	n->props = kv;
	n->nr_props = keep;
	return callers ? 0 : node_untracked(n, dir, r);
}

static int read_self(const char *path, char **buf)
{
	int ret = read_file(path, 1 << 20, buf, NULL);

	if (ret)
		pr_err("cannot read %s: %s", path, errstr(ret));
	return ret;
}

/* Is minicr in this cgroup or below it? Then it is the caller's, not the
 * tree's own: it exists wherever minicr runs, and restore joins it as it is. */
static bool minicr_below(const struct cg_node *n, const struct cg_member *mine, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		if (!strcmp(mine[i].controllers, n->ctrl))
			return cg_path_under(mine[i].path, n->path);
	return false;
}

int cgroup_dump_collect(const struct pstree *tree, struct cg_dump **out, struct refusals *r)
{
	_cleanup_free_ char *mi = NULL, *mine_txt = NULL;
	struct cg_member *mine = NULL;
	size_t nr_mine = 0;
	struct cg_dump *d;
	char myns[64];
	ssize_t l;
	int ret;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->tasks = calloc(tree->nr_tasks, sizeof(*d->tasks));
	if (!d->tasks) {
		ret = -ENOMEM;
		goto out;
	}
	l = readlink("/proc/self/ns/cgroup", myns, sizeof(myns) - 1);
	if (l < 0) {
		ret = -errno;
		pr_err("cannot read minicr's cgroup namespace: %s", errstr(ret));
		goto out;
	}
	myns[l] = '\0';
	for (size_t i = 0; i < tree->nr_tasks; i++) {
		ret = collect_task(d, tree->tasks[i], myns, &d->tasks[d->nr_tasks++]);
		if (ret)
			goto out;
	}
	ret = add_ancestors(d);
	if (!ret)
		ret = read_self("/proc/self/mountinfo", &mi);
	if (!ret)
		ret = read_self("/proc/self/cgroup", &mine_txt);
	if (!ret) {
		ret = cg_proc_parse(mine_txt, &mine, &nr_mine);
		if (ret)
			pr_err("cannot parse /proc/self/cgroup: %s", errstr(ret));
	}
	for (size_t i = 0; !ret && i < d->nr_nodes; i++) {
		_cleanup_free_ char *mnt = NULL;

		ret = cg_mount_find(mi, d->nodes[i].ctrl, &mnt);
		if (ret == -ENOENT) {
			pr_err("cgroup %s (%s): the hierarchy is not mounted here: its settings "
			       "cannot be read", d->nodes[i].path, hier_name(d->nodes[i].ctrl));
			ret = -EOPNOTSUPP;
		}
		if (!ret)
			ret = node_settings(&d->nodes[i], mnt, minicr_below(&d->nodes[i], mine, nr_mine),
					   r);
	}
	cg_members_free(mine, nr_mine);
out:
	if (ret) {
		cgroup_dump_free(d);
		return ret;
	}
	*out = d;
	return 0;
}

void cgroup_dump_task(const struct cg_dump *d, pid_t pid, CoreEntry *ce)
{
	for (size_t i = 0; d && i < d->nr_tasks; i++)
		if (d->tasks[i].pid == pid) {
			ce->n_cgroups = d->tasks[i].nr;
			ce->cgroups = d->tasks[i].idx;
		}
}

int cgroup_dump_write(const struct cg_dump *d, struct img_out *out)
{
	struct img_writer w;
	int ret;

	ret = img_writer_open(out, IMG_CGROUP, 0, &w);
	if (ret)
		return ret;
	for (size_t i = 0; i < d->nr_nodes; i++) {
		const struct cg_node *n = &d->nodes[i];
		CgroupEntry ce = CGROUP_ENTRY__INIT;
		_cleanup_free_ CgroupPropEntry *pv = calloc(n->nr_props + 1, sizeof(*pv));
		_cleanup_free_ CgroupPropEntry **pp = calloc(n->nr_props + 1, sizeof(*pp));

		if (!pv || !pp) {
			img_writer_abort(&w);
			return -ENOMEM;
		}
		ce.controllers = n->ctrl;
		ce.path = n->path;
		ce.has_is_base = n->base;
		ce.is_base = n->base;
		for (size_t j = 0; j < n->nr_props; j++) {
			cgroup_prop_entry__init(&pv[j]);
			pv[j].name = n->props[j].name;
			pv[j].value = n->props[j].value;
			pp[j] = &pv[j];
		}
		ce.n_props = n->nr_props;
		ce.props = pp;
		ret = img_writer_put(&w, &ce.base);
		if (ret) {
			img_writer_abort(&w);
			return ret;
		}
	}
	return img_writer_commit(&w);
}

void cgroup_dump_free(struct cg_dump *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nr_nodes; i++) {
		free(d->nodes[i].ctrl);
		free(d->nodes[i].path);
		kvs_free(d->nodes[i].props, d->nodes[i].nr_props);
	}
	for (size_t i = 0; i < d->nr_tasks; i++)
		free(d->tasks[i].idx);
	free(d->nodes);
	free(d->tasks);
	free(d);
}

/* ---- restore ---- */

struct cg_rnode {
	const CgroupEntry *e;
	char *dir;              /* mount point + mapped path */
	char *mapped;           /* the mapped path */
	char *procs;            /* dir/cgroup.procs */
};

struct cg_rst {
	CgroupEntry **e;
	size_t nr;
	struct cg_rnode *n;
	char **created;         /* directories made, parents first */
	size_t nr_created;
};

static int read_image(int dirfd, struct cg_rst *r)
{
	struct img_reader rd;
	ProtobufCMessage *m;
	int ret;

	ret = img_reader_open(dirfd, "cgroup.img", &img_types[IMG_CGROUP], &rd);
	if (ret)
		return ret;
	while ((ret = img_reader_next(&rd, &m)) > 0) {
		CgroupEntry **ne = realloc(r->e, (r->nr + 1) * sizeof(*ne));

		if (!ne) {
			protobuf_c_message_free_unpacked(m, NULL);
			ret = -ENOMEM;
			break;
		}
		r->e = ne;
		r->e[r->nr++] = (CgroupEntry *)m;
	}
	img_reader_close(&rd);
	if (ret < 0)
		pr_err("cannot read cgroup.img: %s", errstr(ret));
	return ret < 0 ? ret : 0;
}

static const CgroupEntry *base_of(const struct cg_rst *r, const char *ctrl)
{
	for (size_t i = 0; i < r->nr; i++)
		if (r->e[i]->is_base && !strcmp(r->e[i]->controllers, ctrl))
			return r->e[i];
	return NULL;
}

/* Map every entry and find its hierarchy's mount. */
static int resolve(struct cg_rst *r, const char *root, const char *mi)
{
	for (size_t i = 0; i < r->nr; i++) {
		const CgroupEntry *e = r->e[i], *b = base_of(r, e->controllers);
		struct cg_rnode *n = &r->n[i];
		_cleanup_free_ char *mnt = NULL;
		int ret;

		n->e = e;
		if (!b || !cg_path_under(e->path, b->path) || e->path[0] != '/') {
			pr_err("cgroup.img: cgroup %s (%s) is not below a recorded base",
			       e->path, hier_name(e->controllers));
			return -EINVAL;
		}
		n->mapped = root ? cg_path_map(e->path, b->path, root) : strdup(e->path);
		if (!n->mapped)
			return -ENOMEM;
		ret = cg_mount_find(mi, e->controllers, &mnt);
		if (ret == -ENOENT) {
			pr_err("the images need the %s hierarchy%s%s (for cgroup %s), which is not "
			       "mounted here", *e->controllers ? "cgroup v1" : "cgroup v2",
			       *e->controllers ? " " : "", e->controllers, e->path);
			return -ENOENT;
		}
		if (ret)
			return ret;
		if (asprintf(&n->dir, "%s%s", mnt, strcmp(n->mapped, "/") ? n->mapped : "") < 0 ||
		    asprintf(&n->procs, "%s/cgroup.procs", n->dir) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* A v1 cpuset made on the way to a --cgroup-root has no CPUs and no
 * memory nodes, so nothing below could have any: it gets its parent's. */
static int cpuset_inherit(const char *ctrl, char *dir)
{
	static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
	char *slash = strrchr(dir, '/');
	int ret = 0;

	if (!all_in("cpuset", ctrl, strlen(ctrl)) || !slash)
		return 0;
	for (size_t i = 0; !ret && i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *pp = NULL, *val = NULL;

		*slash = '\0';
		ret = asprintf(&pp, "%s/%s", dir, files[i]) < 0 ? -ENOMEM : 0;
		*slash = '/';
		if (!ret)
			ret = read_file(pp, CG_FILE_MAX, &val, NULL);
		if (!ret)
			ret = write_prop(dir, files[i], val);
	}
	if (ret)
		pr_err("cgroup %s: cannot give it its parent's cpuset: %s", dir, errstr(ret));
	return ret;
}

/* mkdir every missing directory of n->dir below its mount; 1 if n->dir
 * itself was made. */
static int make_dirs(struct cg_rst *r, const struct cg_rnode *n)
{
	size_t mlen = strlen(n->dir) - (strcmp(n->mapped, "/") ? strlen(n->mapped) : 0);
	_cleanup_free_ char *p = strdup(n->dir);
	int made = 0;

	if (!p)
		return -ENOMEM;
	for (char *s = p + mlen + 1; s <= p + strlen(n->dir); s++) {
		char **nc;

		if (*s != '/' && *s != '\0')
			continue;
		*s = '\0';
		made = 0;
		if (mkdir(p, 0755) < 0) {
			if (errno != EEXIST) {
				int ret = -errno;

				pr_err("cgroup %s: cannot create %s: %s", n->mapped, p, errstr(ret));
				return ret;
			}
		} else {
			made = 1;
			nc = realloc(r->created, (r->nr_created + 1) * sizeof(*nc));
			if (!nc || !(nc[r->nr_created] = strdup(p))) {
				if (nc)
					r->created = nc;
				rmdir(p);
				return -ENOMEM;
			}
			r->created = nc;
			r->nr_created++;
		}
		if (s == p + strlen(n->dir))
			break;
		if (made) {
			int ret = cpuset_inherit(n->e->controllers, p);

			if (ret)
				return ret;
		}
		*s = '/';
	}
	return made;
}

static const char *recorded(const CgroupEntry *e, const char *name)
{
	for (size_t i = 0; i < e->n_props; i++)
		if (!strcmp(e->props[i]->name, name))
			return e->props[i]->value;
	return NULL;
}

/* A cgroup restore did not create: its settings must be the recorded ones;
 * only controllers missing from its subtree_control are enabled. */
static int check_existing(const struct cg_rnode *n, bool caller_root)
{
	bool v2 = !*n->e->controllers;
	struct cg_kv *kv = NULL;
	size_t nr = 0;
	int ret;

	ret = read_props(n->dir, v2, &kv, &nr);
	if (ret) {
		pr_err("cgroup %s (%s): cannot read its settings in %s: %s", n->mapped,
		       hier_name(n->e->controllers), n->dir, errstr(ret));
		return ret;
	}
	for (size_t i = 0; i < nr; i++) {
		const char *want = recorded(n->e, kv[i].name);

		if (!strcmp(kv[i].name, "cgroup.subtree_control")) {
			for (const char *w = want ? want : ""; *w; w += strspn(w, " ")) {
				size_t l = strcspn(w, " ");
				char one[128];

				if (!word_in(w, l, kv[i].value) && l < sizeof(one)) {
					snprintf(one, sizeof(one), "%.*s", (int)l, w);
					ret = write_prop(n->dir, kv[i].name, one);
					if (ret)
						goto out;
				}
				w += l;
			}
			continue;
		}
		if (caller_root)
			continue;
		if (!want)
			want = cg_prop_default(v2, kv[i].index);
		if (want && strcmp(want, kv[i].value)) {
			pr_err("cgroup %s (%s) exists with %s '%s', recorded '%s': restore does "
			       "not change a cgroup it did not create", n->mapped,
			       hier_name(n->e->controllers), kv[i].name, kv[i].value, want);
			ret = -EEXIST;
			goto out;
		}
	}
	for (size_t j = 0; !caller_root && j < n->e->n_props; j++) {
		size_t i;

		for (i = 0; i < nr && strcmp(kv[i].name, n->e->props[j]->name); i++)
			;
		if (i == nr) {
			pr_err("cgroup %s (%s) exists without %s (recorded '%s'): restore does not "
			       "change a cgroup it did not create", n->mapped,
			       hier_name(n->e->controllers), n->e->props[j]->name,
			       n->e->props[j]->value);
			ret = -EEXIST;
			goto out;
		}
	}
out:
	kvs_free(kv, nr);
	return ret;
}

static int node_cmp(const void *a, const void *b)
{
	const struct cg_rnode *x = a, *y = b;
	int c = strcmp(x->e->controllers, y->e->controllers);

	return c ? c : strcmp(x->mapped, y->mapped);
}

/* Make controller ctrl (of length l) available in the v2 cgroup dir:
 * enabled in its parent's subtree_control, and so on up to the root of
 * the hierarchy (mount point of length mlen), where all are. */
static int v2_available(char *dir, size_t mlen, const char *ctrl, size_t l)
{
	_cleanup_free_ char *sub = NULL, *path = NULL;
	char *slash = strrchr(dir, '/'), one[64];
	int ret;

	if (strlen(dir) <= mlen || !slash || l >= sizeof(one))
		return 0;
	*slash = '\0';
	ret = asprintf(&path, "%s/cgroup.subtree_control", dir) < 0 ? -ENOMEM : 0;
	if (!ret)
		ret = read_file(path, CG_FILE_MAX, &sub, NULL);
	if (!ret)
		sub[strcspn(sub, "\n")] = '\0';
	if (!ret && !word_in(ctrl, l, sub)) {
		snprintf(one, sizeof(one), "%.*s", (int)l, ctrl);
		ret = v2_available(dir, mlen, ctrl, l);
		if (!ret)
			ret = write_prop(dir, "cgroup.subtree_control", one);
	}
	*slash = '/';
	return ret;
}

/* The controllers a new v2 cgroup's settings need, enabled above it. */
static int v2_controllers(const struct cg_rnode *n)
{
	size_t mlen = strlen(n->dir) - (strcmp(n->mapped, "/") ? strlen(n->mapped) : 0);
	_cleanup_free_ char *dir = strdup(n->dir), *self = NULL;
	int ret = 0;

	/* self: a name below n->dir, for what n must offer its children. */
	if (!dir || asprintf(&self, "%s/x", n->dir) < 0)
		return -ENOMEM;
	for (size_t j = 0; !ret && j < n->e->n_props; j++) {
		const char *name = n->e->props[j]->name, *w = n->e->props[j]->value;

		if (strncmp(name, "cgroup.", 7)) {
			ret = v2_available(dir, mlen, name, strcspn(name, "."));
			continue;
		}
		if (strcmp(name, "cgroup.subtree_control"))
			continue;
		for (; !ret && *w; w += strspn(w, " ")) {
			size_t l = strcspn(w, " ");

			ret = v2_available(self, mlen, w, l);
			w += l;
		}
	}
	return ret;
}

static int create_all(struct cg_rst *r, const char *root)
{
	_cleanup_free_ struct cg_rnode *order = malloc(r->nr * sizeof(*order));

	if (!order)
		return -ENOMEM;
	memcpy(order, r->n, r->nr * sizeof(*order));
	/* A parent's path sorts before its children's. */
	qsort(order, r->nr, sizeof(*order), node_cmp);
	for (size_t i = 0; i < r->nr; i++) {
		const struct cg_rnode *n = &order[i];
		int made = make_dirs(r, n), ret = 0;

		if (made < 0)
			return made;
		if (!made)
			ret = check_existing(n, root && n->e->is_base);
		else if (!*n->e->controllers)
			ret = v2_controllers(n);
		for (size_t j = 0; made && !ret && j < n->e->n_props; j++)
			ret = write_prop(n->dir, n->e->props[j]->name, n->e->props[j]->value);
		if (ret)
			return ret;
		pr_debug("cgroup %s (%s): %s", n->mapped, hier_name(n->e->controllers),
			 made ? "created" : "exists");
	}
	return 0;
}

int cgroup_rst_prepare(int dirfd, const char *root, CoreEntry *const *cores, size_t nr_cores,
		       struct cg_rst **out)
{
	_cleanup_free_ char *mi = NULL;
	struct cg_rst *r;
	int ret;

	*out = NULL;
	if (faccessat(dirfd, "cgroup.img", F_OK, 0) < 0 && errno == ENOENT) {
		if (root)
			pr_warn("--cgroup-root: the images record no cgroups");
		return 0;
	}
	if (root && !cg_path_valid(root)) {
		pr_err("--cgroup-root '%s': not an absolute cgroup path", root);
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	ret = read_image(dirfd, r);
	if (ret)
		goto out;
	for (size_t i = 0; i < nr_cores; i++)
		for (size_t j = 0; cores[i] && j < cores[i]->n_cgroups; j++)
			if (cores[i]->cgroups[j] >= r->nr) {
				pr_err("core-%d.img: cgroup %u is not in cgroup.img", cores[i]->pid,
				       cores[i]->cgroups[j]);
				ret = -EINVAL;
				goto out;
			}
	r->n = calloc(r->nr ? r->nr : 1, sizeof(*r->n));
	if (!r->n) {
		ret = -ENOMEM;
		goto out;
	}
	ret = read_self("/proc/self/mountinfo", &mi);
	if (!ret)
		ret = resolve(r, root, mi);
	if (!ret)
		ret = create_all(r, root);
out:
	if (ret) {
		cgroup_rst_undo(r);
		cgroup_rst_free(r);
		return ret;
	}
	*out = r;
	return 0;
}

/* Is the caller already in cgroup n (as its /proc/self/cgroup says)? */
static bool already_in(const struct cg_member *m, size_t nr, const struct cg_rnode *n)
{
	for (size_t i = 0; i < nr; i++)
		if (!strcmp(m[i].controllers, n->e->controllers))
			return !strcmp(m[i].path, n->mapped);
	return false;
}

int cgroup_rst_join(const struct cg_rst *r, pid_t pid, const CoreEntry *ce)
{
	_cleanup_free_ char *buf = NULL;
	struct cg_member *m = NULL;
	size_t nr = 0;
	int ret = 0;

	if (!r || !ce || !ce->n_cgroups)
		return 0;
	/* A move costs the kernel an RCU grace period: most tasks are born
	 * where they belong. */
	if (read_file("/proc/self/cgroup", CG_FILE_MAX, &buf, NULL) || cg_proc_parse(buf, &m, &nr))
		nr = 0;
	for (size_t i = 0; !ret && i < ce->n_cgroups; i++) {
		const struct cg_rnode *n = &r->n[ce->cgroups[i]];

		if (already_in(m, nr, n))
			continue;
		ret = write_str(n->procs, "0");
		if (ret)
			pr_err("task %d: cannot join cgroup %s (%s): %s: %s", pid, n->mapped,
			       hier_name(n->e->controllers), n->procs, errstr(ret));
	}
	cg_members_free(m, nr);
	return ret;
}

void cgroup_rst_undo(struct cg_rst *r)
{
	if (!r)
		return;
	/* Children before parents; a cgroup whose last task was just reaped
	 * may still be busy for a moment. */
	for (size_t i = r->nr_created; i-- > 0;) {
		for (int tries = 0; rmdir(r->created[i]) < 0 && errno == EBUSY && tries < 100;
		     tries++)
			usleep(10000);
		free(r->created[i]);
	}
	free(r->created);
	r->created = NULL;
	r->nr_created = 0;
}

void cgroup_rst_free(struct cg_rst *r)
{
	if (!r)
		return;
	for (size_t i = 0; r->n && i < r->nr; i++) {
		free(r->n[i].dir);
		free(r->n[i].mapped);
		free(r->n[i].procs);
	}
	free(r->n);
	for (size_t i = 0; i < r->nr; i++)
		protobuf_c_message_free_unpacked(&r->e[i]->base, NULL);
	free(r->e);
	for (size_t i = 0; i < r->nr_created; i++)
		free(r->created[i]);
	free(r->created);
	free(r);
}
