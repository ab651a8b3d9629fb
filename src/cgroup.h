/* Cgroup membership of the dumped tree and the settings of its cgroups.
 *
 * Dump (cgroup_dump_collect, before any image is written): every task's
 * /proc/PID/cgroup, one cgroup per hierarchy (v2 and each mounted v1
 * hierarchy). Refused, naming the task: a task in another cgroup namespace
 * than minicr's (its paths would mean other cgroups), a thread whose cgroups
 * are not its leader's (threaded v2 cgroups, v1 tasks moved one thread at a
 * time: restore moves whole processes), a v2 cgroup whose cgroup.type is
 * not "domain", a hierarchy minicr cannot find mounted. A zombie only shows
 * its v2 cgroup (v1 says "/" once a task exited), so only that is kept.
 *
 * The tree's cgroups, per hierarchy: the cgroups of its tasks and every
 * ancestor of them down from their common ancestor, the "base" (included).
 * Each records the settings (cg_props[] below) that differ from a new
 * cgroup's default. They go to cgroup.img; CoreEntry.cgroups indexes it.
 *
 * Restore (cgroup_rst_prepare, after every image check, before the first
 * fork): each recorded path is mapped (--cgroup-root ROOT replaces the
 * base's path by ROOT in every hierarchy); a missing cgroup is created,
 * parents first, and given the recorded settings (subtree_control
 * included); an existing one is joined as it is, but its settings must be
 * the recorded ones (a setting not recorded: the default), else restore
 * fails naming cgroup, file and both values; only controllers missing from
 * its cgroup.subtree_control are enabled. ROOT itself, when it exists,
 * belongs to the caller: neither checked nor changed (but for enabling
 * controllers its children need). Then each task moves itself
 * (cgroup_rst_join, from minicr's code in the new task, after its threads
 * exist and before any recorded state is restored; a zombie just before it
 * exits) by writing 0 to cgroup.procs. cgroup_rst_undo() removes what
 * prepare created, after a failed restore killed the tree.
 *
 * Pure parts (unit tests): cg_proc_parse, cg_mount_find, cg_path_*, cg_prop_*. */
#ifndef MINICR_CGROUP_H
#define MINICR_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core.pb-c.h"
#include "pstree.h"
#include "refuse.h"

/* One line of /proc/PID/cgroup. */
struct cg_member {
	char *controllers;      /* "" for v2 */
	char *path;
};

/* Parse /proc/PID/cgroup ("ID:controllers:path" lines). -EINVAL if a line
 * is malformed or a path is not absolute. */
int cg_proc_parse(const char *buf, struct cg_member **out, size_t *nr);
void cg_members_free(struct cg_member *m, size_t nr);

/* Mount point of the hierarchy of controllers ("" for cgroup2) in a
 * /proc/PID/mountinfo text: a mount of the hierarchy's root ("/"), fstype
 * cgroup2, or cgroup with every one of controllers in its options.
 * -ENOENT if there is none. */
int cg_mount_find(const char *mountinfo, const char *controllers, char **dir);

/* Common ancestor of two absolute cgroup paths ("/a/b", "/a/c" -> "/a"). */
char *cg_path_ancestor(const char *a, const char *b);
/* Is path equal to or below base? */
bool cg_path_under(const char *path, const char *base);
/* path with its prefix base replaced by root; NULL if not under base. */
char *cg_path_map(const char *path, const char *base, const char *root);
/* An acceptable --cgroup-root: absolute, no empty, "." or ".." component. */
bool cg_path_valid(const char *path);

/* Index of the tracked setting file name in its table (v2 or v1), or -1.
 * The index is also the order settings are written in. */
int cg_prop_index(bool v2, const char *name);
/* Default of a new cgroup for that file; NULL: none (always recorded). */
const char *cg_prop_default(bool v2, int index);
/* A file of a cgroup whose value the dump compares with a new cgroup's:
 * neither recorded nor free of settings (membership, triggers, counters). */
bool cg_file_compared(bool v2, const char *name);
/* Same setting value (memory.oom_control: its first line only). */
bool cg_value_same(const char *name, const char *a, const char *b);

struct cg_dump;
struct img_out;
/* Settings outside the table above that differ from a new cgroup's (a probe
 * cgroup made beside each one and removed) are refused through r, but in
 * the root cgroup and the cgroups minicr is in (the caller's). */
int cgroup_dump_collect(const struct pstree *tree, struct cg_dump **out, struct refusals *r);
/* ce->cgroups of task pid (borrowed from d: valid until cgroup_dump_free). */
void cgroup_dump_task(const struct cg_dump *d, pid_t pid, CoreEntry *ce);
int cgroup_dump_write(const struct cg_dump *d, struct img_out *out);
void cgroup_dump_free(struct cg_dump *d);

struct cg_rst;
/* Read cgroup.img (none: *out NULL, nothing to do; images of an older
 * minicr), check every core's indexes, map, create and check the cgroups.
 * root: --cgroup-root or NULL. On failure nothing it created is left. */
int cgroup_rst_prepare(int dirfd, const char *root, CoreEntry *const *cores, size_t nr_cores,
		       struct cg_rst **out);
/* In the task being built (pid as the plan knows it): move the calling
 * process into its cgroups. r and ce (a helper) may be NULL. */
int cgroup_rst_join(const struct cg_rst *r, pid_t pid, const CoreEntry *ce);
/* After a failed restore, once its tasks are gone: remove the cgroups
 * prepare created. */
void cgroup_rst_undo(struct cg_rst *r);
void cgroup_rst_free(struct cg_rst *r);

#endif
