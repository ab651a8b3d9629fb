#include "fdinfo_misc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The text after "key" on the line that starts with it, or NULL. */
static const char *line_after(const char *buf, const char *key)
{
	size_t klen = strlen(key);
	const char *l = buf;

	while (l && *l) {
		if (!strncmp(l, key, klen))
			return l + klen;
		l = strchr(l, '\n');
		if (l)
			l++;
	}
	return NULL;
}

/* An unsigned number in base on its own up to the end of the line. */
static int line_u64(const char *buf, const char *key, int base, uint64_t *v)
{
	const char *s = line_after(buf, key);
	char *end;

	if (!s)
		return -EINVAL;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '-' || !*s || *s == '\n')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, base);
	if (errno || end == s)
		return -EINVAL;
	while (*end == ' ' || *end == '\t')
		end++;
	return *end && *end != '\n' ? -EINVAL : 0;
}

int fdinfo_eventfd(const char *buf, uint64_t *count, int *semaphore)
{
	uint64_t v;
	int ret;

	ret = line_u64(buf, "eventfd-count:", 16, count);
	if (ret)
		return ret;
	*semaphore = -1;
	if (line_after(buf, "eventfd-semaphore:")) {
		ret = line_u64(buf, "eventfd-semaphore:", 10, &v);
		if (ret || v > 1)
			return -EINVAL;
		*semaphore = (int)v;
	}
	return 0;
}

int fdinfo_signalfd(const char *buf, uint64_t *mask)
{
	return line_u64(buf, "sigmask:", 16, mask);
}

/* "(sec, nsec)" */
static int line_pair(const char *buf, const char *key, uint64_t *a, uint64_t *b)
{
	const char *s = line_after(buf, key);
	unsigned long long x, y;
	int n = 0;

	if (!s || sscanf(s, " (%llu, %llu)%n", &x, &y, &n) != 2 || !n)
		return -EINVAL;
	if (s[n] && s[n] != '\n')
		return -EINVAL;
	if (y >= 1000000000ULL)
		return -EINVAL;
	*a = x;
	*b = y;
	return 0;
}

int fdinfo_timerfd(const char *buf, struct fdinfo_timerfd *t)
{
	uint64_t v;
	int ret;

	memset(t, 0, sizeof(*t));
	ret = line_u64(buf, "clockid:", 10, &v);
	if (ret || v > 64)
		return -EINVAL;
	t->clockid = (int)v;
	ret = line_u64(buf, "ticks:", 10, &t->ticks);
	if (ret)
		return ret;
	ret = line_u64(buf, "settime flags:", 8, &v);
	if (ret || v > UINT32_MAX)
		return -EINVAL;
	t->settime_flags = (unsigned int)v;
	ret = line_pair(buf, "it_value:", &t->value_sec, &t->value_nsec);
	if (ret)
		return ret;
	return line_pair(buf, "it_interval:", &t->interval_sec, &t->interval_nsec);
}

static int parse_tfd(const char *s, struct fdinfo_tfd *t)
{
	unsigned long long events, data, ino;
	unsigned int sdev;
	int tfd, n = 0;
	long long pos;

	/* fs/eventpoll.c: "tfd: %8d events: %8x data: %16llx  pos:%lli ino:%lx sdev:%x" */
	if (sscanf(s, "tfd: %d events: %llx data: %llx pos:%lli ino:%llx sdev:%x%n",
		   &tfd, &events, &data, &pos, &ino, &sdev, &n) != 6 || !n)
		return -EINVAL;
	if (s[n] && s[n] != '\n')
		return -EINVAL;
	if (tfd < 0 || events > UINT32_MAX)
		return -EINVAL;
	t->tfd = tfd;
	t->events = (uint32_t)events;
	t->data = data;
	t->ino = ino;
	t->sdev = sdev;
	return 0;
}

int fdinfo_epoll(const char *buf, struct fdinfo_tfd **tfds, size_t *nr)
{
	struct fdinfo_tfd *arr = NULL;
	size_t n = 0, cap = 0;
	const char *l = buf;
	int ret = 0;

	while (l && *l) {
		if (!strncmp(l, "tfd:", 4)) {
			if (n == cap) {
				size_t ncap = cap ? cap * 2 : 8;
				struct fdinfo_tfd *na = realloc(arr, ncap * sizeof(*na));

				if (!na) {
					ret = -ENOMEM;
					goto cleanup;
				}
				arr = na;
				cap = ncap;
			}
			ret = parse_tfd(l, &arr[n]);
			if (ret)
				goto cleanup;
			n++;
		}
		l = strchr(l, '\n');
		if (l)
			l++;
	}
	*tfds = arr;
	*nr = n;
	return 0;
cleanup:
	free(arr);
	return ret;
}
