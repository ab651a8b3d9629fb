/* See imgset.h. The tree code came from tools/decode.c's show. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "imgset.h"
#include "imgtypes.h"
#include "log.h"

int flush_stdout(void)
{
	if (fflush(stdout) || ferror(stdout)) {
		pr_err("cannot write to stdout: %s", strerror(errno));
		return -EIO;
	}
	return 0;
}

static int cmp_pid(const void *a, const void *b, void *arg)
{
	const struct tree *tr = arg;
	int pa = tr->t[*(const long *)a].ps->pid, pb = tr->t[*(const long *)b].ps->pid;

	return (pa > pb) - (pa < pb);
}

long find_pid(const struct tree *tr, int pid)
{
	size_t lo = 0, hi = tr->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int p = tr->t[tr->by_pid[mid]].ps->pid;

		if (p == pid)
			return tr->by_pid[mid];
		if (p < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

void tree_free(struct tree *tr)
{
	for (size_t i = 0; i < tr->nr; i++) {
		protobuf_c_message_free_unpacked(&tr->t[i].ps->base, NULL);
		if (tr->t[i].core)
			protobuf_c_message_free_unpacked(&tr->t[i].core->base, NULL);
	}
	free(tr->t);
	free(tr->by_pid);
}

void msgs_free(struct msgs *ms)
{
	for (size_t i = 0; i < ms->n; i++)
		protobuf_c_message_free_unpacked(ms->m[i], NULL);
	free(ms->m);
	ms->m = NULL;
	ms->n = 0;
}

int imgset_read_all(int dirfd, const char *name, const struct img_type *type, struct msgs *ms)
{
	ProtobufCMessage *msg, **nm;
	struct img_reader r;
	size_t cap = 0;
	int ret;

	if (img_reader_open(dirfd, name, type, &r))
		return -EBADMSG;
	while ((ret = img_reader_next(&r, &msg)) > 0) {
		if (ms->n == cap) {
			cap = cap ? cap * 2 : 64;
			nm = realloc(ms->m, cap * sizeof(*nm));
			if (!nm) {
				protobuf_c_message_free_unpacked(msg, NULL);
				ret = -ENOMEM;
				pr_err("%s: %s", r.path, errstr(ret));
				break;
			}
			ms->m = nm;
		}
		ms->m[ms->n++] = msg;
	}
	img_reader_close(&r);
	return ret == -ENOMEM || !ret ? ret : -EBADMSG;
}

int tree_load(const char *path, struct tree *tr)
{
	struct msgs ms = { 0 };
	int ret;

	ret = imgset_read_all(AT_FDCWD, path, &img_types[IMG_PSTREE], &ms);
	if (!ret) {
		tr->t = malloc((ms.n ? ms.n : 1) * sizeof(*tr->t));
		ret = tr->t ? 0 : -ENOMEM;
		if (ret)
			pr_err("%s: %s", path, errstr(ret));
	}
	if (ret) {
		msgs_free(&ms);
		return ret;
	}
	/* The tree owns the entries from here. */
	for (size_t i = 0; i < ms.n; i++)
		tr->t[i] = (struct task){ .ps = (PstreeEntry *)ms.m[i], .core = NULL, .parent = -1,
					  .first_child = -1, .last_child = -1,
					  .next_sibling = -1 };
	tr->nr = ms.n;
	free(ms.m);
	return 0;
}

int tree_link(const char *path, struct tree *tr)
{
	tr->by_pid = malloc((tr->nr ? tr->nr : 1) * sizeof(long));
	if (!tr->by_pid)
		return -ENOMEM;
	for (size_t i = 0; i < tr->nr; i++)
		tr->by_pid[i] = i;
	qsort_r(tr->by_pid, tr->nr, sizeof(long), cmp_pid, tr);
	for (size_t i = 1; i < tr->nr; i++) {
		if (tr->t[tr->by_pid[i]].ps->pid == tr->t[tr->by_pid[i - 1]].ps->pid) {
			pr_err("%s: PID %d appears twice", path, tr->t[tr->by_pid[i]].ps->pid);
			return -EBADMSG;
		}
	}
	for (size_t i = 0; i < tr->nr; i++) {
		struct task *t = &tr->t[i];
		long p = t->ps->ppid == t->ps->pid ? -1 : find_pid(tr, t->ps->ppid);

		t->parent = p;
		if (p < 0)
			continue;
		if (tr->t[p].last_child >= 0)
			tr->t[tr->t[p].last_child].next_sibling = i;
		else
			tr->t[p].first_child = i;
		tr->t[p].last_child = i;
	}
	return 0;
}

char state_letter(int state)
{
	switch (state) {
	case TASK_STATE__TASK_RUNNING:  return 'R';
	case TASK_STATE__TASK_SLEEPING: return 'S';
	case TASK_STATE__TASK_STOPPED:  return 'T';
	case TASK_STATE__TASK_ZOMBIE:   return 'Z';
	}
	return '?';
}

bool task_is_zombie(const struct task *t)
{
	return t->core->state == TASK_STATE__TASK_ZOMBIE;
}

int read_core(const char *dir, int pid, CoreEntry **core)
{
	char name[NAME_MAX + 1], path[PATH_MAX];
	ProtobufCMessage *msg, *extra;
	struct img_reader r;
	int ret;

	img_file_name(IMG_CORE, pid, name, sizeof(name));
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if (img_reader_open(AT_FDCWD, path, &img_types[IMG_CORE], &r))
		return -EBADMSG;
	ret = img_reader_next(&r, &msg);
	if (ret == 0)
		pr_err("%s: image has no entry", path);
	if (ret > 0 && img_reader_next(&r, &extra) != 0) {
		pr_err("%s: image has more than one entry", path);
		protobuf_c_message_free_unpacked(msg, NULL);
		ret = -EBADMSG;
	}
	img_reader_close(&r);
	if (ret <= 0)
		return -EBADMSG;
	*core = (CoreEntry *)msg;
	if ((*core)->pid != pid)
		pr_warn("%s: records PID %d", path, (*core)->pid);
	return 0;
}

/* Iterative since a corrupt tree may be deep. */
int tree_order(const char *path, struct tree *tr, long *order)
{
	long *stack = malloc((tr->nr ? tr->nr : 1) * sizeof(long));
	size_t sp = 0, n = 0;

	if (!stack)
		return -ENOMEM;
	for (size_t root = 0; root < tr->nr; root++) {
		if (tr->t[root].parent >= 0)
			continue;
		stack[sp++] = root;
		while (sp) {
			long i = stack[--sp];
			size_t first = sp;

			order[n++] = i;
			/* Push children reversed so they pop in image order. */
			for (long c = tr->t[i].first_child; c >= 0; c = tr->t[c].next_sibling) {
				tr->t[c].depth = tr->t[i].depth + 1;
				stack[sp++] = c;
			}
			for (size_t a = first, b = sp; b > a + 1; a++, b--) {
				long tmp = stack[a];

				stack[a] = stack[b - 1];
				stack[b - 1] = tmp;
			}
		}
	}
	free(stack);
	if (n != tr->nr) {
		pr_err("%s: %zu tasks are not reachable from a root (parent cycle)", path, tr->nr - n);
		return -EBADMSG;
	}
	return 0;
}

static int imgset_check_dir(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;

	if (stat(dir, &st)) {
		pr_err("%s: cannot open image directory: %s", dir, strerror(errno));
		return -ENOENT;
	}
	if (!S_ISDIR(st.st_mode)) {
		pr_err("%s: not a directory", dir);
		return -ENOTDIR;
	}
	if (snprintf(path, sizeof(path), "%s/inventory.img", dir) >= (int)sizeof(path)) {
		pr_err("%s: %s", dir, errstr(-ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	if (stat(path, &st))
		pr_warn("%s: missing; the image set may be incomplete", path);
	return 0;
}

int imgset_open(const char *dir, struct imgset *s)
{
	int ret;

	memset(s, 0, sizeof(*s));
	s->dir = dir;
	s->dirfd = -1;
	ret = imgset_check_dir(dir);
	if (ret)
		return ret;
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		ret = -errno;
		pr_err("%s: cannot open image directory: %s", dir, errstr(ret));
		return ret;
	}
	snprintf(s->pstree_path, sizeof(s->pstree_path), "%s/pstree.img", dir);
	ret = tree_load(s->pstree_path, &s->tr);
	if (!ret)
		ret = tree_link(s->pstree_path, &s->tr);
	if (!ret) {
		s->order = malloc((s->tr.nr ? s->tr.nr : 1) * sizeof(long));
		ret = s->order ? tree_order(s->pstree_path, &s->tr, s->order) : -ENOMEM;
	}
	for (size_t i = 0; i < s->tr.nr && !ret; i++)
		ret = read_core(dir, s->tr.t[i].ps->pid, &s->tr.t[i].core);
	/* tree_load() and read_core() report their own. */
	if (ret == -ENOMEM && !s->order)
		pr_err("%s: %s", s->pstree_path, errstr(ret));
	return ret;
}

void imgset_close(struct imgset *s)
{
	tree_free(&s->tr);
	free(s->order);
	if (s->dirfd >= 0)
		close(s->dirfd);
	s->dirfd = -1;
	s->order = NULL;
}
