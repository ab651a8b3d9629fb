#include "fdinfo_notify.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The value after " key:" (or at the start of line) up to the next blank:
 * keys are looked up by name, so field order and additions do not matter. */
static const char *field(const char *line, const char *eol, const char *key)
{
	size_t klen = strlen(key);

	for (const char *p = line; p + klen <= eol; p++) {
		if ((p == line || p[-1] == ' ' || p[-1] == '\t') && !strncmp(p, key, klen) &&
		    p[klen] == ':')
			return p + klen + 1;
	}
	return NULL;
}

static int field_u64(const char *line, const char *eol, const char *key, int base,
		     uint64_t *v)
{
	const char *s = field(line, eol, key);
	char *end;

	if (!s || *s == '-' || *s == ' ' || s >= eol)
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, base);
	if (errno || end == s || (end < eol && *end != ' ' && *end != '\t'))
		return -EINVAL;
	return 0;
}

static int field_u32(const char *line, const char *eol, const char *key, uint32_t *v)
{
	uint64_t x;
	int ret = field_u64(line, eol, key, 16, &x);

	if (ret || x > UINT32_MAX)
		return -EINVAL;
	*v = (uint32_t)x;
	return 0;
}

/* "fhandle-bytes:%x fhandle-type:%x f_handle:<hex>", absent when the
 * filesystem cannot encode one (fh->bytes 0). */
static int parse_fhandle(const char *line, const char *eol, struct fdinfo_fhandle *fh)
{
	uint64_t bytes, type;
	const char *s;

	memset(fh, 0, sizeof(*fh));
	if (!field(line, eol, "fhandle-bytes"))
		return 0;
	if (field_u64(line, eol, "fhandle-bytes", 16, &bytes) ||
	    field_u64(line, eol, "fhandle-type", 16, &type) || !bytes ||
	    bytes > FDINFO_HANDLE_MAX || type > INT32_MAX)
		return -EINVAL;
	s = field(line, eol, "f_handle");
	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < bytes; i++, s += 2) {
		if (s + 1 >= eol || !isxdigit((unsigned char)s[0]) ||
		    !isxdigit((unsigned char)s[1]) || sscanf(s, "%2hhx", &fh->h[i]) != 1)
			return -EINVAL;
	}
	if (s < eol && *s != ' ' && *s != '\t')
		return -EINVAL;
	fh->bytes = (uint32_t)bytes;
	fh->type = (int)type;
	return 0;
}

static const char *eol_of(const char *l)
{
	const char *e = strchr(l, '\n');

	return e ? e : l + strlen(l);
}

static const char *next_line(const char *eol)
{
	return *eol ? eol + 1 : NULL;
}

/* Grow *arr (of elem bytes) so that it holds one more than *nr. */
static int grow(void **arr, size_t nr, size_t *cap, size_t elem)
{
	void *n;

	if (nr < *cap)
		return 0;
	*cap = *cap ? *cap * 2 : 8;
	n = realloc(*arr, *cap * elem);
	if (!n)
		return -ENOMEM;
	*arr = n;
	return 0;
}

static int cmp_wd(const void *a, const void *b)
{
	const struct fdinfo_inotify_wd *x = a, *y = b;

	return (x->wd > y->wd) - (x->wd < y->wd);
}

int fdinfo_inotify(const char *buf, struct fdinfo_inotify_wd **wds, size_t *nr)
{
	struct fdinfo_inotify_wd *arr = NULL;
	size_t n = 0, cap = 0;
	int ret = 0;

	for (const char *l = buf; l && *l; l = next_line(eol_of(l))) {
		const char *e = eol_of(l);
		struct fdinfo_inotify_wd *w;
		uint64_t wd;

		if (strncmp(l, "inotify ", 8))
			continue;
		ret = grow((void **)&arr, n, &cap, sizeof(*arr));
		if (ret)
			break;
		w = &arr[n];
		if (field_u64(l, e, "wd", 16, &wd) || !wd || wd > INT32_MAX ||
		    field_u64(l, e, "ino", 16, &w->ino) || field_u32(l, e, "sdev", &w->sdev) ||
		    field_u32(l, e, "mask", &w->mask) ||
		    field_u32(l, e, "ignored_mask", &w->ignored_mask) ||
		    parse_fhandle(l, e, &w->fh)) {
			ret = -EINVAL;
			break;
		}
		w->wd = (int)wd;
		n++;
	}
	if (!ret && n) {
		qsort(arr, n, sizeof(*arr), cmp_wd);
		for (size_t i = 1; i < n; i++)
			if (arr[i].wd == arr[i - 1].wd)
				ret = -EINVAL;
	}
	if (ret) {
		free(arr);
		return ret;
	}
	*wds = arr;
	*nr = n;
	return 0;
}

static int parse_fan_mark(const char *l, const char *e, struct fdinfo_fan_mark *m)
{
	uint64_t id;

	memset(m, 0, sizeof(*m));
	if (field(l, e, "ino")) {
		m->type = FDINFO_FAN_INODE;
		if (field_u64(l, e, "ino", 16, &m->ino) || field_u32(l, e, "sdev", &m->sdev) ||
		    parse_fhandle(l, e, &m->fh))
			return -EINVAL;
	} else if (field(l, e, "mnt_id")) {
		m->type = FDINFO_FAN_MOUNT;
		if (field_u64(l, e, "mnt_id", 16, &id) || id > INT32_MAX)
			return -EINVAL;
		m->mnt_id = (int)id;
	} else if (field(l, e, "sdev")) {
		m->type = FDINFO_FAN_SB;
		if (field_u32(l, e, "sdev", &m->sdev))
			return -EINVAL;
	} else {
		return -EOPNOTSUPP;
	}
	if (field_u32(l, e, "mflags", &m->mflags) || field_u32(l, e, "mask", &m->mask) ||
	    field_u32(l, e, "ignored_mask", &m->ignored_mask))
		return -EINVAL;
	return 0;
}

int fdinfo_fanotify(const char *buf, uint32_t *flags, uint32_t *event_flags,
		    struct fdinfo_fan_mark **marks, size_t *nr, const char **unknown)
{
	struct fdinfo_fan_mark *arr = NULL;
	size_t n = 0, cap = 0;
	bool head = false;
	int ret = 0;

	*unknown = NULL;
	for (const char *l = buf; l && *l && !ret; l = next_line(eol_of(l))) {
		const char *e = eol_of(l);

		if (strncmp(l, "fanotify ", 9))
			continue;
		if (field(l, e, "flags") && field(l, e, "event-flags")) {
			if (field_u32(l, e, "flags", flags) ||
			    field_u32(l, e, "event-flags", event_flags))
				ret = -EINVAL;
			head = true;
			continue;
		}
		ret = grow((void **)&arr, n, &cap, sizeof(*arr));
		if (!ret)
			ret = parse_fan_mark(l, e, &arr[n]);
		if (ret == -EOPNOTSUPP)
			*unknown = l;
		if (!ret)
			n++;
	}
	if (!ret && !head)
		ret = -EINVAL;
	if (ret) {
		free(arr);
		return ret;
	}
	*marks = arr;
	*nr = n;
	return 0;
}

int fdinfo_pidfd(const char *buf, int *pid)
{
	for (const char *l = buf; l && *l; l = next_line(eol_of(l))) {
		const char *s;
		char *end;
		long v;

		if (strncmp(l, "Pid:", 4))
			continue;
		s = l + 4;
		errno = 0;
		v = strtol(s, &end, 10);
		if (errno || end == s || v < -1 || v > INT32_MAX || (*end && *end != '\n'))
			return -EINVAL;
		*pid = (int)v;
		return 0;
	}
	return -EINVAL;
}

/* Copy a mountinfo path field, undoing its \ooo escapes. */
static int unescape(const char *s, size_t n, char *out, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '\\' && i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
			c = (char)((s[i + 1] - '0') << 6 | (s[i + 2] - '0') << 3 | (s[i + 3] - '0'));
			i += 3;
		}
		if (o + 1 >= len)
			return -ENAMETOOLONG;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

int mountinfo_find(const char *buf, bool by_id, uint64_t key, char *mp, size_t len,
		   uint32_t *kdev)
{
	const char *best = NULL, *best_e = NULL;
	bool best_root = false;
	uint32_t best_dev = 0;

	for (const char *l = buf; l && *l; l = next_line(eol_of(l))) {
		unsigned long long id, parent;
		unsigned int ma, mi;
		int root_off = 0;
		const char *root, *p, *q, *e = eol_of(l);
		bool match, is_root;

		if (sscanf(l, "%llu %llu %u:%u %n", &id, &parent, &ma, &mi, &root_off) != 4 ||
		    !root_off)
			continue;
		match = by_id ? id == key : ((uint64_t)ma << 20 | mi) == key;
		if (!match)
			continue;
		root = l + root_off;
		p = memchr(root, ' ', e - root);
		if (!p)
			continue;
		is_root = p - root == 1 && root[0] == '/';
		q = memchr(p + 1, ' ', e - p - 1);
		if (!q)
			q = e;
		if (!best || (is_root && !best_root)) {
			best = p + 1;
			best_e = q;
			best_root = is_root;
			best_dev = ma << 20 | mi;
		}
	}
	if (!best)
		return -ENOENT;
	if (kdev)
		*kdev = best_dev;
	return unescape(best, best_e - best, mp, len);
}

int inotify_wds_check(const int *wds, size_t nr, int max)
{
	for (size_t i = 0; i < nr; i++) {
		if (wds[i] <= 0 || (i && wds[i] <= wds[i - 1]))
			return -EINVAL;
		if (wds[i] > max)
			return -E2BIG;
	}
	return 0;
}
