/* minicr-decode's views of a whole image set, like CRIU's `crit x`:
 *
 *   show DIR [--json]  the tree, like ps (or the same as nested JSON)
 *   fds DIR            per task: fd, kind, flags, position and what it is
 *                      open on (path, pipe and its other end, socket
 *                      addresses and peer)
 *   mems DIR           per task: VMAs with size, protection, what backs
 *                      them, and how many of their pages the images hold
 *
 * They read the generated C structs of the messages they present (they
 * are views, not the generic converter) through imgset.h. The views_cmd
 * functions take the arguments after the command name and return the exit
 * status: 0, 1 (bad images, already reported) or EXIT_USAGE. */
#ifndef MINICR_VIEWS_H
#define MINICR_VIEWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm.pb-c.h"

int views_show(int argc, char **argv);
int views_fds(int argc, char **argv);
int views_mems(int argc, char **argv);

/* ---- pure helpers, exposed for tests/unit/test_views.c ---- */

#define VIEWS_PAGE_SIZE 4096ULL

/* O_* names of the FileEntry.flags of a file ("O_RDWR|O_APPEND"), with
 * O_CLOEXEC added for a cloexec fd; bits without a name as hex. Always
 * NUL-terminated, with whole names only; len 256 holds every name. */
void views_open_flags(uint32_t flags, bool cloexec, char *buf, size_t len);

/* "rwx" of PROT_* bits, as /proc/PID/maps prints them. */
void views_prot(uint32_t prot, char buf[4]);

/* How many pages of the runs (PagemapEntry: vaddr, nr_pages) fall in
 * [start, end). Runs may be in any order; overlaps are not merged. */
uint64_t views_run_pages(PagemapEntry *const *runs, size_t n, uint64_t start, uint64_t end);

#endif
