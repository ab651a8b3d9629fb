/* Small helpers shared by every module: cleanup attributes, whole-file
 * reads and robust write loops. All return 0 (or a size) or -errno. */
#ifndef MINICR_UTIL_H
#define MINICR_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd) { if (*fd >= 0) close(*fd); }
#define _cleanup_free_  __attribute__((cleanup(freep)))
#define _cleanup_close_ __attribute__((cleanup(closep)))

/* Read a whole file (at most max bytes, else -EFBIG) into a NUL-terminated
 * malloc'd buffer. *len excludes the terminator. */
int read_file_at(int dirfd, const char *path, size_t max, char **buf, size_t *len);
int read_file(const char *path, size_t max, char **buf, size_t *len);

/* write()/read() until done; EINTR is retried. */
int write_all(int fd, const void *buf, size_t len);
ssize_t read_all(int fd, void *buf, size_t len);

/* Append v to a growable pid_t array. */
int pid_array_add(pid_t **arr, size_t *nr, size_t *cap, pid_t v);

/* Parse a whitespace-separated list of decimal PIDs. */
int parse_pid_list(const char *s, pid_t **out, size_t *nr);

#endif
