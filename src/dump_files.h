/* Open file descriptors of a frozen task for files-<pid>.img: one FdEntry
 * per fd, from /proc/PID/fd (path, stat of the open file) and
 * /proc/PID/fdinfo (flags, position).
 *
 * Only regular files, directories and character devices can be dumped.
 * Any other fd (pipe, socket, anon_inode, FIFO, block device, namespace) or
 * an open file that was deleted makes dump_files_check() fail with a
 * message naming the task, the fd and its kind; dump.c runs it for every
 * task before it writes any image, so such a dump fails cleanly.
 *
 * fdinfo_parse() and fd_classify() are pure. */
#ifndef MINICR_DUMP_FILES_H
#define MINICR_DUMP_FILES_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "files.pb-c.h"

/* The lines of /proc/PID/fdinfo/N that minicr uses. */
struct fdinfo {
	uint64_t pos;
	uint32_t flags;     /* O_* as the kernel reports them, O_CLOEXEC included */
};

/* -EINVAL unless both pos: and flags: are present and well formed. */
int fdinfo_parse(const char *buf, struct fdinfo *fi);

/* Kind of an open file from its stat (mode, nlink) and /proc/PID/fd/N link
 * text. 0 and *kind for what minicr can dump; -EOPNOTSUPP otherwise, with
 * *what naming it ("a pipe", "a socket", "a deleted file", ...). */
int fd_classify(mode_t mode, nlink_t nlink, const char *link, FdKind *kind,
		const char **what);

/* Read every fd of pid and fail (-EOPNOTSUPP, logged) on one minicr cannot
 * dump. Writes nothing. */
int dump_files_check(pid_t pid);
/* Write files-<pid>.img (fds ascending). */
int dump_files_write(int dirfd, pid_t pid);

#endif
