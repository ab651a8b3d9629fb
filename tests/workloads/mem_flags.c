/* minicr-test-memflags DIR [droppable]: memory whose VmFlags and
 * protections must survive a dump and restore (tests/cr/scenarios/
 * mem-flags.sh, mem-refusals.sh).
 *
 * Anonymous regions with one madvise() state each (random, sequential,
 * dontfork, wipeonfork, hugepage, nohugepage, mergeable, dontdump), an
 * mlock()ed one, a lock-on-fault one with 2 of its 16 pages touched and an
 * mseal()ed one; file mappings whose protection changed after mmap(): a
 * MAP_SHARED rw mapping made read-only, a MAP_PRIVATE one split into four
 * VMAs of different protections, a MAP_SHARED one split into two. It
 * records what smaps shows of them (bounds, perms, Rss, Locked, VmFlags
 * but ac and sd, which are accounting only) in its own memory, then writes
 * DIR/ready. Once DIR/check exists it compares smaps with that record,
 * checks contents and behaviour (a sealed VMA refuses mprotect; the
 * read-only shared file mapping can be made writable again and writes
 * reach the file; a forked child sees zeroes in the wipe-on-fork region and
 * nothing in the dont-fork one) and writes "OK" or "BAD: why" to
 * DIR/result.
 *
 * With "droppable", it also maps MAP_DROPPABLE memory, which minicr
 * refuses to dump. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096UL
#define NR_PAGES 4
#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08
#endif
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif
#define NR_MSEAL 462

enum { R_RND, R_SEQ, R_DFORK, R_WIPE, R_HUGE, R_NOHUGE, R_MERGE, R_DDUMP, R_LOCK,
       R_ONFAULT, R_SEAL, R_SHFILE, R_SPLIT, R_SPLITSH, R_DROP, R_NR };

struct region {
	char *addr;
	size_t len;
	bool used;
};

static struct region reg[R_NR];
static char dir[512];
static char before[16384];
static char bad[512];

static void set_bad(const char *fmt, ...)
{
	va_list ap;

	if (bad[0])
		return;
	va_start(ap, fmt);
	vsnprintf(bad, sizeof(bad), fmt, ap);
	va_end(ap);
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static char pattern(int r, size_t page)
{
	return (char)('A' + r * 3 + page);
}

static char *anon(int r, size_t pages)
{
	char *p = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	reg[r] = (struct region){ p, pages * PG, true };
	return p;
}

static void fill(int r, size_t pages)
{
	for (size_t i = 0; i < pages; i++)
		memset(reg[r].addr + i * PG, pattern(r, i), PG);
}

static void advise(int r, int adv)
{
	char *p = anon(r, NR_PAGES);

	fill(r, NR_PAGES);
	/* THP or KSM may be configured out: then the region is left out. */
	if (madvise(p, NR_PAGES * PG, adv)) {
		if (errno != EINVAL)
			die("madvise");
		fprintf(stderr, "madvise(%d) unsupported here, region %d left out\n", adv, r);
		reg[r].used = false;
	}
}

static int file_of(const char *name, size_t pages)
{
	char path[600], buf[PG];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die("open");
	for (size_t i = 0; i < pages; i++) {
		memset(buf, 'a' + i, PG);
		if (write(fd, buf, PG) != (ssize_t)PG)
			die("write");
	}
	return fd;
}

static char *file_map(int r, const char *name, size_t pages, int flags)
{
	int fd = file_of(name, pages);
	char *p = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE, flags, fd, 0);

	if (p == MAP_FAILED)
		die("mmap file");
	close(fd);
	reg[r] = (struct region){ p, pages * PG, true };
	return p;
}

static void setup(bool droppable)
{
	char *p;

	advise(R_RND, MADV_RANDOM);
	advise(R_SEQ, MADV_SEQUENTIAL);
	advise(R_DFORK, MADV_DONTFORK);
	advise(R_WIPE, MADV_WIPEONFORK);
	advise(R_HUGE, MADV_HUGEPAGE);
	advise(R_NOHUGE, MADV_NOHUGEPAGE);
	advise(R_MERGE, MADV_MERGEABLE);
	advise(R_DDUMP, MADV_DONTDUMP);

	p = anon(R_LOCK, NR_PAGES);
	fill(R_LOCK, NR_PAGES);
	if (mlock(p, NR_PAGES * PG))
		die("mlock");
	p = anon(R_ONFAULT, 16);
	if (syscall(SYS_mlock2, p, 16 * PG, MLOCK_ONFAULT))
		die("mlock2");
	p[0] = 1;
	p[9 * PG] = 2;
	p = anon(R_SEAL, NR_PAGES);
	fill(R_SEAL, NR_PAGES);
	if (syscall(NR_MSEAL, p, NR_PAGES * PG, 0)) {
		if (errno != ENOSYS)
			die("mseal");
		fprintf(stderr, "no mseal here, region left out\n");
		reg[R_SEAL].used = false;
	}

	/* MAP_SHARED rw, then read-only: VM_MAYWRITE stays. */
	p = file_map(R_SHFILE, "shared.dat", NR_PAGES, MAP_SHARED);
	p[0] = 'S';
	if (mprotect(p, NR_PAGES * PG, PROT_READ))
		die("mprotect shared");
	/* MAP_PRIVATE rw, written, split in four protections. */
	p = file_map(R_SPLIT, "split.dat", NR_PAGES, MAP_PRIVATE);
	for (size_t i = 0; i < NR_PAGES; i++)
		p[i * PG + 1] = 'P';
	if (mprotect(p + PG, PG, PROT_READ) || mprotect(p + 2 * PG, PG, PROT_NONE) ||
	    mprotect(p + 3 * PG, PG, PROT_READ | PROT_EXEC))
		die("mprotect split");
	/* MAP_SHARED rw split in two. */
	p = file_map(R_SPLITSH, "split2.dat", NR_PAGES, MAP_SHARED);
	if (mprotect(p + 2 * PG, 2 * PG, PROT_READ))
		die("mprotect split2");

	if (droppable) {
		p = mmap(NULL, NR_PAGES * PG, PROT_READ | PROT_WRITE, MAP_DROPPABLE | MAP_ANONYMOUS,
			 -1, 0);
		if (p == MAP_FAILED)
			die("mmap MAP_DROPPABLE");
		reg[R_DROP] = (struct region){ p, NR_PAGES * PG, true };
		p[0] = 1;
	}
}

/* The region [s, e) overlaps, or -1. */
static int region_at(uintptr_t s, uintptr_t e)
{
	for (int r = 0; r < R_NR; r++)
		if (reg[r].used && s < (uintptr_t)reg[r].addr + reg[r].len &&
		    e > (uintptr_t)reg[r].addr)
			return r;
	return -1;
}

/* What smaps shows of the regions, one line per VMA. */
static void snapshot(char *out, size_t len)
{
	static char buf[1 << 20];
	char *line, *save = NULL;
	size_t used = 0, n;
	bool on = false;
	int r = -1, fd = open("/proc/self/smaps", O_RDONLY);
	ssize_t got;

	if (fd < 0)
		die("open smaps");
	n = 0;
	while ((got = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += got;
	close(fd);
	buf[n] = '\0';
	out[0] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long s, e;
		char perms[5];

		if (sscanf(line, "%lx-%lx %4s", &s, &e, perms) == 3 && strchr(line, '-') < strchr(line, ' ')) {
			r = region_at(s, e);
			on = r >= 0;
			if (on)
				used += snprintf(out + used, len - used, "%lx-%lx %s", s, e, perms);
		} else if (on && ((!strncmp(line, "Rss:", 4) && r != R_SHFILE && r != R_SPLITSH) ||
				  !strncmp(line, "Locked:", 7))) {
			/* Page cache of a shared file mapping is faulted in
			 * again when used: not state. */
			unsigned long kb = 0;

			sscanf(strchr(line, ':') + 1, "%lu", &kb);
			used += snprintf(out + used, len - used, " %c=%lu", line[0], kb);
		} else if (on && !strncmp(line, "VmFlags:", 8)) {
			char *f, *s2 = NULL;

			for (f = strtok_r(line + 8, " ", &s2); f; f = strtok_r(NULL, " ", &s2))
				if (strcmp(f, "ac") && strcmp(f, "sd"))
					used += snprintf(out + used, len - used, " %s", f);
			used += snprintf(out + used, len - used, "\n");
		}
		if (used >= len)
			die("snapshot too long");
	}
}

static void check_contents(void)
{
	static const int filled[] = { R_RND, R_SEQ, R_DFORK, R_WIPE, R_HUGE, R_NOHUGE,
				      R_MERGE, R_DDUMP, R_LOCK, R_SEAL };
	char *p;

	for (size_t k = 0; k < sizeof(filled) / sizeof(filled[0]); k++) {
		int r = filled[k];

		for (size_t i = 0; reg[r].used && i < NR_PAGES; i++)
			for (size_t b = 0; b < PG; b += 512)
				if (reg[r].addr[i * PG + b] != pattern(r, i))
					set_bad("region %d page %zu byte %zu: %#x, want %#x", r, i, b,
						reg[r].addr[i * PG + b], pattern(r, i));
	}
	p = reg[R_ONFAULT].addr;
	if (p[0] != 1 || p[9 * PG] != 2 || p[PG] != 0)
		set_bad("the lock-on-fault region lost its contents");
	p = reg[R_SPLIT].addr;
	if (p[1] != 'P' || p[PG + 1] != 'P' || p[3 * PG + 1] != 'P' || p[3 * PG] != 'd')
		set_bad("the split private file mapping lost its contents");
	if (reg[R_SHFILE].addr[0] != 'S')
		set_bad("the shared file mapping lost its contents");
}

static void check_behaviour(void)
{
	char path[600], c = 0;
	pid_t pid;
	int fd, st;

	if (reg[R_SEAL].used && (mprotect(reg[R_SEAL].addr, PG, PROT_READ) == 0 || errno != EPERM))
		set_bad("mprotect of the sealed region did not fail with EPERM");
	/* A read-only VMA of a file opened O_RDWR may become writable. */
	if (mprotect(reg[R_SHFILE].addr, NR_PAGES * PG, PROT_READ | PROT_WRITE)) {
		set_bad("mprotect(PROT_WRITE) of the shared file mapping: %s", strerror(errno));
	} else {
		reg[R_SHFILE].addr[PG] = 'W';
		snprintf(path, sizeof(path), "%s/shared.dat", dir);
		fd = open(path, O_RDONLY);
		if (fd < 0 || pread(fd, &c, 1, PG) != 1 || c != 'W')
			set_bad("a write to the shared file mapping did not reach the file");
		if (fd >= 0)
			close(fd);
	}
	pid = fork();
	if (pid == 0) {
		unsigned char v;

		if (reg[R_WIPE].addr[0] != 0)
			_exit(1);
		if (mincore(reg[R_DFORK].addr, PG, &v) == 0 || errno != ENOMEM)
			_exit(2);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		set_bad("fork: wipe-on-fork or dont-fork not honoured (child status %#x)", st);
}

static void put(const char *name, const char *text)
{
	char path[600];
	int fd;

	snprintf(path, sizeof(path), "%s/%s.tmp", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		die("write result");
	close(fd);
	{
		char to[600];

		snprintf(to, sizeof(to), "%s/%s", dir, name);
		if (rename(path, to))
			die("rename");
	}
}

int main(int argc, char **argv)
{
	static char after[sizeof(before)];
	char path[600], res[1024];

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: minicr-test-memflags DIR [droppable]\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s", argv[1]);
	setup(argc == 3 && !strcmp(argv[2], "droppable"));
	snapshot(before, sizeof(before));
	put("before", before);
	put("ready", "");
	snprintf(path, sizeof(path), "%s/check", dir);
	while (access(path, F_OK))
		usleep(20000);
	snapshot(after, sizeof(after));
	put("after", after);
	if (strcmp(before, after))
		set_bad("smaps differs (see before and after)");
	check_contents();
	check_behaviour();
	snprintf(res, sizeof(res), "%s%s\n", bad[0] ? "BAD: " : "OK", bad);
	put("result", res);
	pause();
	return 0;
}
