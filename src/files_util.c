/* Pure helpers of the files framework (files.h "pure" section): no system
 * call, so tests/unit/test_files.c drives them on synthetic input. */
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fdinfo_parse(const char *buf, struct fdinfo *fi)
{
	const char *line = buf;
	bool has_pos = false, has_flags = false;

	memset(fi, 0, sizeof(*fi));
	while (line && *line) {
		const char *nl = strchr(line, '\n'), *s = NULL;
		unsigned long long v;
		int base = 0;
		char *end;

		if (!strncmp(line, "pos:", 4)) {
			s = line + 4;
			base = 10;
		} else if (!strncmp(line, "flags:", 6)) {
			s = line + 6;
			base = 8;
		}
		if (s) {
			while (*s == ' ' || *s == '\t')
				s++;
			errno = 0;
			v = strtoull(s, &end, base);
			if (errno || end == s || *s == '-' || (*end && *end != '\n'))
				return -EINVAL;
			if (base == 10) {
				fi->pos = v;
				has_pos = true;
			} else {
				if (v > UINT32_MAX)
					return -EINVAL;
				fi->flags = v;
				has_flags = true;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return has_pos && has_flags ? 0 : -EINVAL;
}

const char *files_what(mode_t mode, nlink_t nlink, const char *link)
{
	/* Links that are not paths read "pipe:[123]", "socket:[45]",
	 * "anon_inode:[eventfd]", "net:[4026531840]", ...; checked first:
	 * anon inodes (and pidfds) report S_IFREG on recent kernels. */
	if (!strncmp(link, "pipe:", 5))
		return "a pipe";
	if (!strncmp(link, "socket:", 7))
		return "a socket";
	if (!strncmp(link, "anon_inode:", 11))
		return "an anon_inode file";
	if (link[0] != '/')
		return "a special file";
	switch (mode & S_IFMT) {
	case S_IFREG: return nlink ? "a regular file" : "a deleted file";
	case S_IFDIR: return nlink ? "a directory" : "a deleted directory";
	case S_IFCHR: return "a character device";
	case S_IFIFO: return "a FIFO";
	case S_IFSOCK: return "a socket";
	case S_IFBLK: return "a block device";
	default: return "a special file";
	}
}

static int key_cmp(const struct files_group_key *a, const struct files_group_key *b)
{
	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	if (a->ino != b->ino)
		return a->ino < b->ino ? -1 : 1;
	if (a->pos != b->pos)
		return a->pos < b->pos ? -1 : 1;
	if (a->flags != b->flags)
		return a->flags < b->flags ? -1 : 1;
	return 0;
}

static const struct files_group_key *sort_keys;

static int idx_cmp(const void *pa, const void *pb)
{
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	int c = key_cmp(&sort_keys[a], &sort_keys[b]);

	/* Input order within a run: the first fd of a file represents it. */
	return c ? c : (a > b) - (a < b);
}

int files_group(const struct files_group_key *keys, size_t n,
		int (*same)(void *ctx, size_t i, size_t j), void *ctx,
		uint32_t *group, size_t *nr_groups)
{
	size_t *idx = NULL, *rep = NULL, *renum = NULL;
	size_t nr = 0, next = 0;
	int ret = 0;

	*nr_groups = 0;
	if (!n)
		return 0;
	idx = calloc(n, sizeof(*idx));
	rep = calloc(n, sizeof(*rep));      /* representatives of the current run */
	renum = calloc(n, sizeof(*renum));
	if (!idx || !rep || !renum) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	sort_keys = keys;
	qsort(idx, n, sizeof(*idx), idx_cmp);
	for (size_t s = 0; s < n;) {
		size_t e = s + 1, nrep = 0;

		while (e < n && !key_cmp(&keys[idx[s]], &keys[idx[e]]))
			e++;
		for (size_t k = s; k < e; k++) {
			size_t i = idx[k], r;

			for (r = 0; r < nrep; r++) {
				ret = same(ctx, idx[rep[r]], i);
				if (ret < 0)
					goto out;
				if (ret == 0)
					break;
			}
			ret = 0;
			if (r < nrep) {
				group[i] = group[idx[rep[r]]];
			} else {
				rep[nrep++] = k;
				group[i] = nr++;
			}
		}
		s = e;
	}
	/* Number the groups by their first item in input order. */
	for (size_t g = 0; g < nr; g++)
		renum[g] = SIZE_MAX;
	for (size_t i = 0; i < n; i++)
		if (renum[group[i]] == SIZE_MAX)
			renum[group[i]] = next++;
	for (size_t i = 0; i < n; i++)
		group[i] = renum[group[i]];
	*nr_groups = nr;
out:
	free(idx);
	free(rep);
	free(renum);
	return ret;
}

int files_inherit_parse(const char *spec, int *fd, const char **key)
{
	unsigned long v;
	char *end;

	if (strncmp(spec, "fd[", 3))
		return -EINVAL;
	if (spec[3] < '0' || spec[3] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(spec + 3, &end, 10);
	if (errno || v > INT_MAX || end[0] != ']' || end[1] != ':' || !end[2])
		return -EINVAL;
	*fd = (int)v;
	*key = end + 2;
	return 0;
}

int files_lock_parse(const char *line, struct files_lock *l)
{
	char tok[10][32];
	unsigned long long start, end;
	int n = 0, i = 1;
	const char *s = line;
	char *e;

	memset(l, 0, sizeof(*l));
	while (n < 10) {
		size_t len;

		s += strspn(s, " \t");
		len = strcspn(s, " \t\n");
		if (!len)
			break;
		if (len >= sizeof(tok[0]))
			return -EINVAL;
		memcpy(tok[n], s, len);
		tok[n++][len] = '\0';
		s += len;
	}
	if (n < 2 || tok[0][strlen(tok[0]) - 1] != ':')
		return -EINVAL;
	if (!strcmp(tok[i], "->")) {
		l->waiter = true;
		i++;
	}
	snprintf(l->name, sizeof(l->name), "%s", tok[i]);
	if (!strcmp(tok[i], "FLOCK"))
		l->kind = FILE_LOCK_KIND__LOCK_FLOCK;
	else if (!strcmp(tok[i], "POSIX"))
		l->kind = FILE_LOCK_KIND__LOCK_POSIX;
	else if (!strcmp(tok[i], "OFDLCK"))
		l->kind = FILE_LOCK_KIND__LOCK_OFD;
	else
		return 0;   /* a lease, delegation, ...: named, not parsed further */
	/* kind, ADVISORY|MANDATORY, READ|WRITE, pid, dev:ino, start, end */
	if (n - i != 7)
		return -EINVAL;
	if (strcmp(tok[i + 1], "ADVISORY")) {
		snprintf(l->name, sizeof(l->name), "%s", tok[i + 1]);
		l->kind = 0;
		return 0;
	}
	if (!strcmp(tok[i + 2], "WRITE"))
		l->write = true;
	else if (strcmp(tok[i + 2], "READ"))
		return -EINVAL;
	errno = 0;
	l->pid = strtol(tok[i + 3], &e, 10);
	if (errno || *e)
		return -EINVAL;
	start = strtoull(tok[i + 5], &e, 10);
	if (errno || *e || tok[i + 5][0] == '-')
		return -EINVAL;
	l->start = start;
	if (!strcmp(tok[i + 6], "EOF"))
		return 0;
	end = strtoull(tok[i + 6], &e, 10);
	if (errno || *e || tok[i + 6][0] == '-' || end < start)
		return -EINVAL;
	l->len = end - start + 1;
	return 0;
}
