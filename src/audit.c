#include "audit.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <linux/kcmp.h>

#include "kcmp.h"
#include "log.h"
#include "proc_parse.h"
#include "util.h"

const char *const audit_ns_names[] = { "mnt", "net", "uts", "ipc", "user", "cgroup", "time" };
const size_t audit_nr_ns = ARRAY_SIZE(audit_ns_names);

bool audit_ns_ok(const char *name, const char *task, const char *self, const char *root,
		 bool root_is_ns_init)
{
	if (!strcmp(task, self))
		return true;
	return root_is_ns_init && !strcmp(name, "mnt") && !strcmp(task, root);
}

/* /proc/PID/ns/NAME link text; "" if the kernel has no such namespace
 * (every task then reads the same). */
static int ns_link(pid_t pid, const char *name, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, name);
	else
		snprintf(path, sizeof(path), "/proc/self/ns/%s", name);
	n = readlink(path, buf, len - 1);
	if (n < 0) {
		if (errno == ENOENT) {
			buf[0] = '\0';
			return 0;
		}
		n = -errno;
		pr_err("task %d: cannot read %s: %s", pid, path, errstr(n));
		return n;
	}
	buf[n] = '\0';
	return 0;
}

static int audit_namespaces(const struct pstree *tree, bool root_is_ns_init, struct refusals *r)
{
	char self[64], root[64], task[64];
	int ret;

	for (size_t k = 0; k < audit_nr_ns; k++) {
		const char *name = audit_ns_names[k];

		ret = ns_link(0, name, self, sizeof(self));
		if (!ret)
			ret = ns_link(tree->tasks[0]->pid, name, root, sizeof(root));
		if (ret)
			return ret;
		for (size_t i = 0; i < tree->nr_tasks; i++) {
			const struct pstree_task *t = tree->tasks[i];

			if (t->zombie)
				continue;
			ret = ns_link(t->pid, name, task, sizeof(task));
			if (ret)
				return ret;
			if (!audit_ns_ok(name, task, self, root, root_is_ns_init))
				refuse(r, "task %d: its %s namespace %s is not minicr's (%s); restore "
				       "would put it in minicr's: run minicr inside that namespace",
				       t->pid, name, task, self);
		}
	}
	return 0;
}

static int audit_exit_signals(const struct pstree *tree, struct refusals *r)
{
	struct proc_stat st;
	int ret;

	/* The root's exit signal goes to a parent outside the tree, which is
	 * minicr's at restore. */
	for (size_t i = 1; i < tree->nr_tasks; i++) {
		const struct pstree_task *t = tree->tasks[i];

		ret = proc_stat_read(t->pid, 0, &st);
		if (ret) {
			pr_err("task %d: cannot read /proc/%d/stat: %s", t->pid, t->pid, errstr(ret));
			return ret;
		}
		if (st.exit_signal != SIGCHLD)
			refuse(r, "task %d: its parent gets signal %d at its exit, not SIGCHLD "
			       "(clone exit_signal); restore forks with SIGCHLD", t->pid,
			       st.exit_signal);
	}
	return 0;
}

int audit_numa_maps_parse(const char *buf, unsigned long long *addr, char *policy, size_t len)
{
	for (const char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *p, *end;
		char *num_end;
		size_t n;

		*addr = strtoull(l, &num_end, 16);
		if (num_end == l || *num_end != ' ')
			return -EINVAL;
		p = num_end + 1;
		end = p + strcspn(p, " \n");
		if (end == p)
			return -EINVAL;
		n = end - p;
		if (n == strlen("default") && !strncmp(p, "default", n))
			continue;
		if (n >= len)
			n = len - 1;
		memcpy(policy, p, n);
		policy[n] = '\0';
		return 1;
	}
	return 0;
}

static int audit_mempolicy(const struct pstree *tree, struct refusals *r)
{
	unsigned long long addr;
	char path[64], policy[64];
	int ret;

	for (size_t i = 0; i < tree->nr_tasks; i++) {
		const struct pstree_task *t = tree->tasks[i];
		_cleanup_free_ char *buf = NULL;

		if (t->zombie)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/numa_maps", t->pid);
		ret = read_file(path, 64 << 20, &buf, NULL);
		if (ret == -ENOENT)
			return 0;   /* a kernel without NUMA: no policy to lose */
		if (ret) {
			pr_err("task %d: cannot read %s: %s", t->pid, path, errstr(ret));
			return ret;
		}
		ret = audit_numa_maps_parse(buf, &addr, policy, sizeof(policy));
		if (ret < 0) {
			pr_err("task %d: cannot parse %s: %s", t->pid, path, errstr(ret));
			return ret;
		}
		if (ret)
			refuse(r, "task %d: NUMA memory policy %s at %llx (set_mempolicy or mbind); "
			       "minicr does not restore memory policies", t->pid, policy, addr);
	}
	return 0;
}

/* Tasks sharing an object of kcmp type are adjacent once sorted. */
static int audit_sharing(const struct pstree *tree, int type, const char *what,
			 const char *how, struct refusals *r)
{
	_cleanup_free_ pid_t *v = calloc(tree->nr_tasks ? tree->nr_tasks : 1, sizeof(*v));
	size_t n = 0;
	int ret;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < tree->nr_tasks; i++)
		if (!tree->tasks[i]->zombie)
			v[n++] = tree->tasks[i]->pid;
	ret = kcmp_sort(v, n, type);
	for (size_t i = 1; i < n && !ret; i++) {
		ret = kcmp_same(v[i - 1], v[i], type);
		if (ret == 1) {
			refuse(r, "tasks %d and %d share %s (%s); restore gives each task its own",
			       v[i - 1], v[i], what, how);
			ret = 0;
		}
	}
	return ret;
}

/* Restore makes a deleted cwd again for each task on its own: two tasks
 * whose cwd is one deleted directory (a child forked after chdir) would
 * get two directories. */
static int audit_deleted_cwds(const struct pstree *tree, struct refusals *r)
{
	_cleanup_free_ struct stat *st = calloc(tree->nr_tasks, sizeof(*st));
	_cleanup_free_ pid_t *pid = calloc(tree->nr_tasks, sizeof(*pid));
	size_t n = 0;
	char path[64];

	if (!st || !pid)
		return -ENOMEM;
	for (size_t i = 0; i < tree->nr_tasks; i++) {
		const struct pstree_task *t = tree->tasks[i];

		snprintf(path, sizeof(path), "/proc/%d/cwd", t->pid);
		if (t->zombie || stat(path, &st[n]) < 0 || st[n].st_nlink)
			continue;
		for (size_t j = 0; j < n; j++) {
			if (st[j].st_dev == st[n].st_dev && st[j].st_ino == st[n].st_ino) {
				refuse(r, "tasks %d and %d have one deleted directory as their cwd; "
				       "restore would make one for each", pid[j], t->pid);
				break;
			}
		}
		pid[n++] = t->pid;
	}
	return 0;
}

int audit_tree(const struct pstree *tree, bool root_is_ns_init, struct refusals *r)
{
	int ret;

	ret = audit_namespaces(tree, root_is_ns_init, r);
	if (!ret)
		ret = audit_exit_signals(tree, r);
	if (!ret)
		ret = audit_mempolicy(tree, r);
	if (!ret)
		ret = audit_sharing(tree, KCMP_VM, "an address space", "clone(CLONE_VM) or vfork", r);
	if (!ret)
		ret = audit_sharing(tree, KCMP_FS, "cwd, root and umask", "clone(CLONE_FS)", r);
	if (!ret)
		ret = audit_deleted_cwds(tree, r);
	return ret;
}
