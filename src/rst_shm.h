/* Shared memory objects of one restore, as memory restore (src/rst_mem.c)
 * holds them: one object per shared anonymous object of the dump, mapped
 * by every task that mapped it. A memfd that a task both had open and
 * mapped is one object too: the files restore (src/files_reg.c) takes the
 * memfd memory already created for the mappings, or hands the one it
 * creates for the fd to memory, whichever comes first, keyed by the inode
 * number the memfd had at dump (FileEntry.ino == VmaEntry.ino).
 *
 * Both return values are minicr's own fds, owned by the registry (closed
 * by rst_mem_cleanup()); the caller dups what it keeps. */
#ifndef MINICR_RST_SHM_H
#define MINICR_RST_SHM_H

#include <stdint.h>

/* The memfd restored for the dumped inode ino, or -ENOENT. */
int rst_shm_memfd(uint64_t ino);

/* Register fd (duplicated), a memfd already holding its content and size,
 * as the object of the dumped inode ino: mappings of it use it as it is.
 * 0 or -errno (-EEXIST if ino has an object already). */
int rst_shm_adopt_memfd(uint64_t ino, int fd);

#endif
