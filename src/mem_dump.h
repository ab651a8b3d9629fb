/* Dump of a frozen task's memory (the task must be seized and in a ptrace
 * stop; its thread tid is borrowed for a few remote system calls and always
 * put back as it was).
 *
 *   mm-<pid>.img       MmEntry: mm fields, brk, exe, auxv, dumpable, THP,
 *                      and every VMA classified (src/proc_maps.h), with the
 *                      guard ranges found while scanning its pages (so it
 *                      is written after the two images below)
 *   pagemap-<pid>.img  runs (PagemapEntry) of the pages of private VMAs that
 *                      hold data: anonymous (or copied-on-write) pages,
 *                      present or swapped; never zero pages or file pages.
 *                      Runs ascend and never cross a VMA boundary.
 *   pages-<pid>.img    their contents, raw, in the same order
 *   shmem-<shmid>.img, shmem-pages-<shmid>.img
 *                      the populated pages of each shared memory object
 *                      (MAP_SHARED|MAP_ANONYMOUS, SysV, memfd), vaddr =
 *                      offset inside it; written once per dump, by the
 *                      first task that maps the object
 *
 * One struct mem_dump lives for a whole dump: it remembers which shared
 * objects are done, which images exist (for mem_dump_remove()) and counts
 * time and pages for stats-dump.img. Functions return 0 or -errno and log
 * failures naming the PID. */
#ifndef MINICR_MEM_DUMP_H
#define MINICR_MEM_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proc_maps.h"

/* Page buffers between the reading and the writing thread. */
#define MD_NR_BUFS 4

struct mem_dump_stats {
	/* The two overlap: page images are written by a second thread while
	 * the next pages are read. */
	uint64_t dump_us;           /* reading: smaps, pagemap, page contents */
	uint64_t write_us;          /* writing page images, fsync included */
	uint64_t pages_scanned;     /* pages of the VMAs and objects examined */
	uint64_t pages_written;
};

/* A task's pagemap of one private anonymous VMA, read before its pages
 * (mem_dump.c: reading them unshares copy-on-write pages). */
struct cow_snap {
	pid_t pid;
	uint64_t start, end;
	uint64_t *pme;              /* (end - start) / 4096 entries */
};

struct progress;

struct mem_dump {
	int dirfd;
	struct progress *prog;      /* counts the bytes of pages written; may be NULL */
	struct img_out *out;        /* where the images go */
	struct mem_dump_stats stats;
	uint64_t zero_pfn;          /* the shared zero page, 0 if unknown */
	bool use_scan;              /* PAGEMAP_SCAN works here */
	uint64_t *shmids;           /* shared objects already dumped */
	size_t nr_shmids, cap_shmids;
	pid_t *pids;                /* tasks whose images may exist */
	size_t nr_pids, cap_pids;
	struct cow_snap *snaps;     /* private anonymous pagemaps, for children */
	size_t nr_snaps, cap_snaps;
	uint8_t *buf;               /* MD_NR_BUFS page buffers, reused */
	uint8_t *bufs[MD_NR_BUFS];
	size_t buf_len;             /* of each */
};

struct refusals;
struct img_out;

/* Before anything is written: refuse (src/refuse.h) every VMA of pid that
 * minicr cannot record. -errno (logged) if smaps cannot be read. */
int mem_dump_check(pid_t pid, struct refusals *r);
int mem_dump_init(struct mem_dump *md, struct img_out *out, struct progress *prog);
/* ppid: the task's parent in the dumped tree (0 for the root or a zombie
 * parent), whose pages the task may still share copy-on-write. */
int mem_dump_task(struct mem_dump *md, pid_t pid, pid_t tid, pid_t ppid);
/* Unlink every image mem_dump_task() wrote (after a failed dump). */
void mem_dump_remove(struct mem_dump *md);
void mem_dump_fini(struct mem_dump *md);

#endif
