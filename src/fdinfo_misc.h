/* Parsers of the kind-specific lines of /proc/PID/fdinfo/N for anonymous
 * inode files (fs/eventfd.c, fs/eventpoll.c, fs/signalfd.c, fs/timerfd.c
 * show_fdinfo). Pure: tests/unit/test_fdmisc.c drives them on crafted text.
 * Each returns 0, or -EINVAL if a line it needs is missing or malformed. */
#ifndef MINICR_FDINFO_MISC_H
#define MINICR_FDINFO_MISC_H

#include <stddef.h>
#include <stdint.h>

/* "eventfd-count: <hex>" and, from Linux 6.6, "eventfd-semaphore: 0|1"
 * (*semaphore is -1 when the kernel does not show it). */
int fdinfo_eventfd(const char *buf, uint64_t *count, int *semaphore);

/* "sigmask:\t<16 hex digits>" */
int fdinfo_signalfd(const char *buf, uint64_t *mask);

struct fdinfo_timerfd {
	int clockid;
	uint64_t ticks;
	unsigned int settime_flags;    /* octal in fdinfo */
	uint64_t value_sec, value_nsec;
	uint64_t interval_sec, interval_nsec;
};

/* "clockid:", "ticks:", "settime flags:", "it_value: (s, ns)",
 * "it_interval: (s, ns)" */
int fdinfo_timerfd(const char *buf, struct fdinfo_timerfd *t);

struct fdinfo_tfd {
	int tfd;
	uint32_t events;
	uint64_t data;
	uint64_t ino;      /* hex in fdinfo */
	uint32_t sdev;     /* hex in fdinfo: the kernel's dev_t encoding */
};

/* Every "tfd: N events: X data: X  pos:N ino:X sdev:X" line, in order, into
 * a malloc'd array (NULL when there is none). -ENOMEM too. */
int fdinfo_epoll(const char *buf, struct fdinfo_tfd **tfds, size_t *nr);

#endif
