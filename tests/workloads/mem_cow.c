/* minicr-test-memcow DIR: a pre-forking server's memory
 * (tests/cr/scenarios/mem-cow.sh). The parent fills 64 MiB of private
 * anonymous memory, then forks 8 children that share it copy-on-write;
 * child k writes one page of its own (page 7 * k). Each writes
 * DIR/ready.<k> (the parent DIR/ready.p). Once DIR/check exists, each child
 * checks the whole region (the parent's pattern, its own page), then writes
 * two pages of its own and reports in DIR/done.<k>; the parent waits for
 * them, checks that none of the children's writes shows in its memory and
 * writes "OK" or "BAD: why" to DIR/result. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "wl_files.h"

#define PG       4096UL
#define SIZE     (64UL << 20)
#define NR_PAGES (SIZE / PG)
#define NR_KIDS  8
#define OWN(k)   ((size_t)(k) * 7)
#define LATE(k)  (1000 + (size_t)(k) * 3)

static char dir[512];

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void put(const char *name, const char *text)
{
	wl_put(dir, name, text);
}

static int await(const char *name, int seconds)
{
	return wl_await(dir, name, seconds);
}

static unsigned char pat(size_t page)
{
	return (unsigned char)(page * 13 + 1);
}

/* The first mismatching page of m for task k (-1: the parent), or -1. */
static long check(const unsigned char *m, int k, int late)
{
	for (size_t i = 0; i < NR_PAGES; i++) {
		unsigned char want = pat(i);

		if (k >= 0 && i == OWN(k))
			want = 'A' + k;
		if (k >= 0 && late && i == LATE(k))
			want = 'Z';
		if (m[i * PG] != want || m[i * PG + PG - 1] != want)
			return i;
	}
	return -1;
}

int main(int argc, char **argv)
{
	unsigned char *m;
	char name[32], res[256] = "OK\n";
	long bad;

	if (argc != 2) {
		fprintf(stderr, "usage: minicr-test-memcow DIR\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s", argv[1]);
	m = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		die("mmap");
	/* No huge pages: a child's write would copy 2 MiB, not a page. */
	madvise(m, SIZE, MADV_NOHUGEPAGE);
	for (size_t i = 0; i < NR_PAGES; i++)
		memset(m + i * PG, pat(i), PG);
	for (int k = 0; k < NR_KIDS; k++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid)
			continue;
		memset(m + OWN(k) * PG, 'A' + k, PG);
		snprintf(name, sizeof(name), "ready.%d", k);
		put(name, "");
		if (await("check", 3600))
			_exit(1);
		bad = check(m, k, 0);
		memset(m + LATE(k) * PG, 'Z', PG);
		if (bad < 0)
			bad = check(m, k, 1);
		snprintf(res, sizeof(res), bad < 0 ? "OK" : "BAD: child %d page %ld", k, bad);
		snprintf(name, sizeof(name), "done.%d", k);
		put(name, res);
		pause();
		_exit(0);
	}
	put("ready.p", "");
	if (await("check", 3600))
		die("no check");
	for (int k = 0; k < NR_KIDS; k++) {
		char path[600], text[128] = "";
		FILE *f;

		snprintf(name, sizeof(name), "done.%d", k);
		if (await(name, 30))
			die("a child did not report");
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		f = fopen(path, "r");
		if (!f || !fgets(text, sizeof(text), f))
			die("read a child's report");
		fclose(f);
		if (strcmp(text, "OK") && !strncmp(res, "OK", 2))
			snprintf(res, sizeof(res), "%s\n", text);
	}
	bad = check(m, -1, 0);
	if (bad >= 0 && !strncmp(res, "OK", 2))
		snprintf(res, sizeof(res), "BAD: the parent's page %ld changed (a child's write leaked)\n", bad);
	put("result", res);
	pause();
	return 0;
}
