#include "proc_parse.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int proc_stat_parse(const char *buf, struct proc_stat *st)
{
	unsigned long long f[53] = { 0 };
	const char *open, *close, *p;
	char *end;
	size_t clen;
	int field;

	memset(st, 0, sizeof(*st));
	/* comm may hold spaces and parentheses: it spans from the first '('
	 * to the last ')'. */
	open = strchr(buf, '(');
	close = strrchr(buf, ')');
	if (!open || !close || close < open)
		return -EINVAL;
	errno = 0;
	st->pid = strtol(buf, &end, 10);
	if (errno || end == buf || st->pid <= 0)
		return -EINVAL;
	clen = close - open - 1;
	if (clen >= sizeof(st->comm))
		clen = sizeof(st->comm) - 1;
	memcpy(st->comm, open + 1, clen);
	st->comm[clen] = '\0';

	p = close + 1;
	if (p[0] != ' ' || !p[1] || p[2] != ' ')
		return -EINVAL;
	st->state = p[1];
	p += 3;
	for (field = 4; field <= 52 && *p; field++) {
		errno = 0;
		/* Signed fields (tty_nr, priority, ...) parse as 2's complement. */
		if (*p == '-')
			f[field] = (unsigned long long)strtoll(p, &end, 10);
		else
			f[field] = strtoull(p, &end, 10);
		if (errno || end == p)
			return -EINVAL;
		p = end;
		while (*p == ' ' || *p == '\n')
			p++;
	}
	/* Kernels since 3.5 have 52 fields; start_time is all we insist on. */
	if (field <= 22)
		return -EINVAL;

	st->ppid = f[4];
	st->pgid = f[5];
	st->sid = f[6];
	st->tty_nr = (int)f[7];
	st->flags = f[9];
	st->num_threads = f[20];
	st->start_time = f[22];
	st->exit_signal = (int)f[38];
	st->start_code = f[26];
	st->end_code = f[27];
	st->start_stack = f[28];
	st->start_data = f[45];
	st->end_data = f[46];
	st->start_brk = f[47];
	st->arg_start = f[48];
	st->arg_end = f[49];
	st->env_start = f[50];
	st->env_end = f[51];
	st->exit_code = (int)f[52];
	return 0;
}

static void proc_path(char *buf, size_t size, pid_t pid, pid_t tid, const char *file)
{
	if (tid)
		snprintf(buf, size, "/proc/%d/task/%d/%s", pid, tid, file);
	else
		snprintf(buf, size, "/proc/%d/%s", pid, file);
}

int proc_stat_read(pid_t pid, pid_t tid, struct proc_stat *st)
{
	_cleanup_free_ char *buf = NULL;
	char path[64];
	int ret;

	proc_path(path, sizeof(path), pid, tid, "stat");
	ret = read_file(path, 4096, &buf, NULL);
	if (ret)
		return ret;
	return proc_stat_parse(buf, st);
}

static int parse_id_levels(const char *s, pid_t *out, int *nr)
{
	char *end;
	long v;

	*nr = 0;
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\n' || !*s)
			return *nr ? 0 : -EINVAL;
		if (*nr == PROC_NS_LEVELS)
			return -E2BIG;
		errno = 0;
		v = strtol(s, &end, 10);
		if (errno || end == s || v < 0 || v > INT_MAX)
			return -EINVAL;
		out[(*nr)++] = v;
		s = end;
	}
}

static int parse_hex64(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 16);
	return errno || end == s ? -EINVAL : 0;
}

int proc_status_parse(const char *buf, struct proc_status *st)
{
	static const struct {
		const char *key;
		size_t off, nr_off;
	} levels[] = {
		{ "NStgid:", offsetof(struct proc_status, ns_tgid), offsetof(struct proc_status, ns_tgid_nr) },
		{ "NSpid:", offsetof(struct proc_status, ns_pid), offsetof(struct proc_status, ns_pid_nr) },
		{ "NSpgid:", offsetof(struct proc_status, ns_pgid), offsetof(struct proc_status, ns_pgid_nr) },
		{ "NSsid:", offsetof(struct proc_status, ns_sid), offsetof(struct proc_status, ns_sid_nr) },
	};
	static const struct {
		const char *key;
		size_t off;
	} masks[] = {
		{ "SigPnd:", offsetof(struct proc_status, sig_pnd) },
		{ "ShdPnd:", offsetof(struct proc_status, shd_pnd) },
		{ "SigBlk:", offsetof(struct proc_status, sig_blk) },
		{ "SigIgn:", offsetof(struct proc_status, sig_ign) },
		{ "SigCgt:", offsetof(struct proc_status, sig_cgt) },
	};
	const char *line = buf;
	int ret = 0;

	memset(st, 0, sizeof(*st));
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		unsigned i;

		for (i = 0; i < ARRAY_SIZE(levels); i++) {
			size_t kl = strlen(levels[i].key);

			if (!strncmp(line, levels[i].key, kl)) {
				ret = parse_id_levels(line + kl, (pid_t *)((char *)st + levels[i].off),
						      (int *)((char *)st + levels[i].nr_off));
				if (ret)
					return ret;
			}
		}
		for (i = 0; i < ARRAY_SIZE(masks); i++) {
			size_t kl = strlen(masks[i].key);

			if (!strncmp(line, masks[i].key, kl)) {
				ret = parse_hex64(line + kl, (uint64_t *)((char *)st + masks[i].off));
				if (ret)
					return ret;
			}
		}
		if (!strncmp(line, "Tgid:", 5))
			st->tgid = strtol(line + 5, NULL, 10);
		else if (!strncmp(line, "Pid:", 4))
			st->pid = strtol(line + 4, NULL, 10);
		else if (!strncmp(line, "PPid:", 5))
			st->ppid = strtol(line + 5, NULL, 10);
		else if (!strncmp(line, "Umask:", 6)) {
			st->umask = strtoul(line + 6, NULL, 8);
			st->has_umask = 1;
		}
		line = nl ? nl + 1 : NULL;
	}
	if (!st->pid || !st->ns_pid_nr)
		return -EINVAL;
	return 0;
}

int proc_status_read(pid_t pid, pid_t tid, struct proc_status *st)
{
	_cleanup_free_ char *buf = NULL;
	char path[64];
	int ret;

	proc_path(path, sizeof(path), pid, tid, "status");
	ret = read_file(path, 1 << 16, &buf, NULL);
	if (ret)
		return ret;
	return proc_status_parse(buf, st);
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

int proc_threads_read(pid_t pid, pid_t **tids, size_t *nr)
{
	pid_t *arr = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	char path[64];
	DIR *d;
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		ret = pid_array_add(&arr, &n, &cap, atoi(de->d_name));
		if (ret)
			break;
	}
	closedir(d);
	if (ret) {
		free(arr);
		return ret;
	}
	qsort(arr, n, sizeof(*arr), cmp_pid);
	*tids = arr;
	*nr = n;
	return 0;
}

int proc_children_read(pid_t pid, pid_t tid, pid_t **kids, size_t *nr)
{
	_cleanup_free_ char *buf = NULL;
	char path[64];
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, tid);
	ret = read_file(path, 1 << 22, &buf, NULL);
	if (ret)
		return ret;
	return parse_pid_list(buf, kids, nr);
}
