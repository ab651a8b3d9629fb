/* Reading a dumped image set as a whole for minicr-decode's views (show,
 * fds, mems): the task tree from pstree.img, linked and ordered as show
 * prints it, with each task's core-PID.img. The per-task images a view
 * needs beyond that it reads itself, through imgset.dirfd.
 *
 * Everything logs once where it fails (the file and what is wrong) and
 * returns 0 or -errno. */
#ifndef MINICR_IMGSET_H
#define MINICR_IMGSET_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "core.pb-c.h"
#include "imgtypes.h"
#include "pstree.pb-c.h"

/* Exit status of a minicr-decode command given bad arguments. */
#define EXIT_USAGE 2

struct task {
	PstreeEntry *ps;
	CoreEntry *core;        /* read once the tree is known to be sound */
	long parent;            /* index in tasks[], -1 for a root */
	long first_child, last_child, next_sibling;
	int depth;
};

struct tree {
	struct task *t;
	size_t nr;
	long *by_pid;           /* indices sorted by pid, for lookups */
};

/* Every entry of an image, in order. */
struct msgs {
	ProtobufCMessage **m;
	size_t n;
};

/* Append every entry of image name (relative to dirfd, of the given type)
 * to ms; 0, -EBADMSG or -ENOMEM, reported with the path. */
int imgset_read_all(int dirfd, const char *name, const struct img_type *type, struct msgs *ms);
void msgs_free(struct msgs *ms);

/* pstree.img at path -> tr (tasks in image order, not linked yet). */
int tree_load(const char *path, struct tree *tr);
/* Link children to parents, keeping pstree.img order among siblings;
 * refuses a PID that appears twice. */
int tree_link(const char *path, struct tree *tr);
/* order[] (tr->nr entries) gets the task indices depth first from each
 * root, children in image order; depths are set. Refuses parent cycles. */
int tree_order(const char *path, struct tree *tr, long *order);
/* Index in tr->t of the task with this pid, or -1. */
long find_pid(const struct tree *tr, int pid);
void tree_free(struct tree *tr);

/* core-PID.img of dir, which must hold exactly one entry. */
int read_core(const char *dir, int pid, CoreEntry **core);
/* R, S, T, Z or ? for a TaskState. */
char state_letter(int state);

struct imgset {
	const char *dir;
	int dirfd;
	char pstree_path[PATH_MAX];
	struct tree tr;
	long *order;            /* tr.nr task indices in show's print order */
};

/* Open dir, load, link and order its tree and read every task's core
 * image: a set that passes is sound enough for any view to print without
 * stopping half way on the tree. Release with imgset_close() either way. */
int imgset_open(const char *dir, struct imgset *s);
void imgset_close(struct imgset *s);

/* Whether the task's core image says it is a zombie (no fds, no mm). */
bool task_is_zombie(const struct task *t);

/* A full disk or closed pipe must not look like success: 0 or -EIO. */
int flush_stdout(void);

#endif
