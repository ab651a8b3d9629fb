/* Which tasks share a kernel object (fd table, address space, fs_struct):
 * kcmp(2) orders the objects, so tasks sorted by it hold shared ones next
 * to each other, found in n log n calls instead of n^2. */
#ifndef MINICR_KCMP_H
#define MINICR_KCMP_H

#include <stddef.h>
#include <sys/types.h>

/* Sort pids by their object of kcmp type (KCMP_FILES, KCMP_VM, ...).
 * -errno (logged) if kcmp fails. */
int kcmp_sort(pid_t *pids, size_t n, int type);
/* 1 if a and b hold the same object of type, 0 if not, -errno (logged). */
int kcmp_same(pid_t a, pid_t b, int type);

#endif
