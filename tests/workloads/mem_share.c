/* minicr-test-memshare DIR: one memfd shared by a parent and its child
 * (tests/cr/scenarios/mem-share.sh). The parent creates the memfd, keeps
 * its fd open and maps it MAP_SHARED; the child inherits both by fork and
 * maps the memfd once more at another address. Once both wrote DIR/ready.*
 * and DIR/check exists, they take turns: the parent writes through its
 * mapping, the child must see it in both of its mappings and through its
 * fd; the child writes through its own mapping, the parent must see it in
 * its mapping and through its fd; the parent writes with pwrite() on its
 * fd, the child must see it in its mappings. So after a restore the fds and
 * all three mappings must still be one object. The parent writes "OK" or
 * "BAD: why" to DIR/result. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "wl_files.h"

#define PG   4096UL
#define SIZE (16 * PG)

static char dir[512];

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void touch(const char *name, const char *text)
{
	wl_put(dir, name, text);
}

/* Wait up to 10 s for DIR/name. */
static int await(const char *name)
{
	return wl_await(dir, name, 10);
}

static char fd_byte(int fd, off_t off)
{
	char c = 0;

	if (pread(fd, &c, 1, off) != 1)
		return 0;
	return c;
}

int main(int argc, char **argv)
{
	char *a, *b, res[256] = "OK\n";
	int fd;
	pid_t kid;

	if (argc != 2) {
		fprintf(stderr, "usage: minicr-test-memshare DIR\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s", argv[1]);
	fd = memfd_create("pool", 0);
	if (fd < 0 || ftruncate(fd, SIZE))
		die("memfd");
	a = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (a == MAP_FAILED)
		die("mmap");
	memset(a, 'x', SIZE);
	kid = fork();
	if (kid < 0)
		die("fork");
	if (kid == 0) {
		const char *bad = NULL;

		b = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (b == MAP_FAILED)
			die("child mmap");
		touch("ready.child", "");
		if (await("check") || await("p1"))
			_exit(3);
		if (a[0] != 'P' || b[0] != 'P' || fd_byte(fd, 0) != 'P')
			bad = "the child does not see the parent's write to its mapping";
		b[PG] = 'C';
		touch("c1", "");
		if (await("p2"))
			_exit(3);
		if (!bad && (a[2 * PG] != 'F' || b[2 * PG] != 'F'))
			bad = "the child does not see the parent's pwrite() in its mappings";
		touch("c2", bad ? bad : "OK");
		pause();
		_exit(0);
	}
	touch("ready.parent", "");
	if (await("check"))
		die("no check");
	a[0] = 'P';
	touch("p1", "");
	if (await("c1"))
		die("no c1");
	if (a[PG] != 'C' || fd_byte(fd, PG) != 'C')
		snprintf(res, sizeof(res), "BAD: the parent does not see the child's write (mapping %c, fd %c)\n",
			 a[PG], fd_byte(fd, PG));
	if (pwrite(fd, "F", 1, 2 * PG) != 1)
		die("pwrite");
	if (a[2 * PG] != 'F' && !strncmp(res, "OK", 2))
		snprintf(res, sizeof(res), "BAD: the parent's pwrite() does not show in its mapping\n");
	touch("p2", "");
	if (await("c2"))
		die("no c2");
	{
		char path[600], c2[200] = "";
		FILE *f;

		snprintf(path, sizeof(path), "%s/c2", dir);
		f = fopen(path, "r");
		if (!f || !fgets(c2, sizeof(c2), f))
			die("read c2");
		fclose(f);
		if (strcmp(c2, "OK") && !strncmp(res, "OK", 2))
			snprintf(res, sizeof(res), "BAD: %s\n", c2);
	}
	touch("result", res);
	pause();
	return 0;
}
