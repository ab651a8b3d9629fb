/* Pure parsing for inotify, fanotify and pidfd files (src/files_notify.c,
 * src/files_pidfd.c): the kind lines of /proc/PID/fdinfo/N as
 * fs/notify/fdinfo.c and kernel/pid.c print them, and the lines of
 * /proc/PID/mountinfo that name a mount by device or id. No system calls:
 * tests/unit/test_fdnotify.c drives them on crafted text. Each returns 0,
 * or -EINVAL if a line it needs is missing or malformed (-ENOMEM, -ENOENT
 * where said). */
#ifndef MINICR_FDINFO_NOTIFY_H
#define MINICR_FDINFO_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FDINFO_HANDLE_MAX 128   /* MAX_HANDLE_SZ */

/* A file handle as fdinfo shows it ("fhandle-bytes:8 fhandle-type:1
 * f_handle:c220a700fe19087c"); bytes 0 when the kernel printed none. */
struct fdinfo_fhandle {
	uint32_t bytes;
	int type;
	unsigned char h[FDINFO_HANDLE_MAX];
};

struct fdinfo_inotify_wd {
	int wd;
	uint64_t ino;
	uint32_t sdev;          /* the kernel's dev_t: major << 20 | minor */
	uint32_t mask, ignored_mask;
	struct fdinfo_fhandle fh;
};

/* Every "inotify wd:..." line into a malloc'd array sorted by ascending wd
 * (NULL when there is none). Two watches with one wd are -EINVAL. */
int fdinfo_inotify(const char *buf, struct fdinfo_inotify_wd **wds, size_t *nr);

enum fdinfo_fan_type { FDINFO_FAN_INODE = 1, FDINFO_FAN_MOUNT, FDINFO_FAN_SB };

struct fdinfo_fan_mark {
	enum fdinfo_fan_type type;
	uint64_t ino;           /* FDINFO_FAN_INODE */
	uint32_t sdev;          /* FDINFO_FAN_INODE, FDINFO_FAN_SB */
	int mnt_id;             /* FDINFO_FAN_MOUNT (hex in fdinfo) */
	uint32_t mflags, mask, ignored_mask;
	struct fdinfo_fhandle fh;
};

/* "fanotify flags:%x event-flags:%x" and every mark line into a malloc'd
 * array. A mark of a kind this parser does not know ("fanotify mnt_ns:...")
 * is -EOPNOTSUPP with *unknown pointing at its line. */
int fdinfo_fanotify(const char *buf, uint32_t *flags, uint32_t *event_flags,
		    struct fdinfo_fan_mark **marks, size_t *nr, const char **unknown);

/* "Pid:" of a pidfd: the PID in the PID namespace of that /proc, -1 for a
 * task that has been reaped, 0 for one outside that namespace. */
int fdinfo_pidfd(const char *buf, int *pid);

/* The mount point of a mount in mountinfo text: by mount id (first field)
 * when by_id, else by device (the kernel's dev_t encoding), preferring a
 * mount of the filesystem's root ("/" as its root field). Octal escapes
 * (\040) are undone. *kdev (if not NULL): its device, kernel encoding.
 * -ENOENT if no mount matches, -ENAMETOOLONG. */
int mountinfo_find(const char *buf, bool by_id, uint64_t key, char *mp, size_t len,
		   uint32_t *kdev);

/* Can inotify give the watches exactly wds[0..nr) (ascending)? Its wds come
 * from a cyclic allocator starting at 1: reaching wd N takes N - 1
 * allocations at most in all; more than max is refused (-E2BIG). */
int inotify_wds_check(const int *wds, size_t nr, int max);

#endif
