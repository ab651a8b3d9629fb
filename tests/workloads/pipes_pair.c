/* minicr-test-pipes: a parent and a child joined by a pipe (or a FIFO)
 * with data left unread across a dump, for tests/integration/pipes-*.sh.
 *
 *   minicr-test-pipes --dir DIR [--fifo]
 *
 * The child writes 1000 bytes into the pipe; then DIR/ready is written
 * ("PARENT CHILD"). Both wait for DIR/go (the test dumps and restores in
 * between). Then the child writes 500 more bytes and exits, closing its
 * end; the parent reads to EOF and checks it got exactly the 1500 bytes in
 * order, that the child exited 0 (it checks its end is still O_NONBLOCK,
 * the parent's is not), and that the pipe capacity is the one it set
 * (128 KiB), and writes "OK ..." or "FAIL ..." into DIR/result. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FIRST 1000
#define SECOND 500
#define PIPE_CAP (128 * 1024)

static const char *dir;

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 7 + 3 + i / 251);
}

static void put_file(const char *name, const char *fmt, ...)
{
	char path[4096], tmp[4096];
	va_list ap;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	f = fopen(tmp, "w");
	if (!f)
		exit(3);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	if (fclose(f) || rename(tmp, path))
		exit(3);
}

static void wait_go(void)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	char path[4096];

	snprintf(path, sizeof(path), "%s/go", dir);
	while (access(path, F_OK))
		nanosleep(&ts, NULL);
}

static int write_pattern(int fd, size_t from, size_t n)
{
	unsigned char buf[FIRST + SECOND];

	for (size_t i = 0; i < n; i++)
		buf[i] = pattern(from + i);
	for (size_t done = 0; done < n;) {
		ssize_t w = write(fd, buf + done, n - done);

		if (w < 0)
			return -1;
		done += w;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned char got[FIRST + SECOND + 1];
	char fifo[4096];
	int p[2], status, cap;
	bool use_fifo = false;
	size_t total = 0;
	pid_t child;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			dir = argv[++i];
		else if (!strcmp(argv[i], "--fifo"))
			use_fifo = true;
		else {
			fprintf(stderr, "usage: %s --dir DIR [--fifo]\n", argv[0]);
			return 2;
		}
	}
	if (!dir) {
		fprintf(stderr, "usage: %s --dir DIR [--fifo]\n", argv[0]);
		return 2;
	}
	if (use_fifo) {
		snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
		if (mkfifo(fifo, 0600) && errno != EEXIST) {
			perror("mkfifo");
			return 1;
		}
		/* Read end first, non-blocking so the open does not wait. */
		p[0] = open(fifo, O_RDONLY | O_NONBLOCK);
		p[1] = p[0] < 0 ? -1 : open(fifo, O_WRONLY);
		if (p[1] < 0 || fcntl(p[0], F_SETFL, 0)) {
			perror("open fifo");
			return 1;
		}
	} else if (pipe(p)) {
		perror("pipe");
		return 1;
	}
	if (fcntl(p[0], F_SETPIPE_SZ, PIPE_CAP) < 0) {
		perror("F_SETPIPE_SZ");
		return 1;
	}
	child = fork();
	if (child < 0) {
		perror("fork");
		return 1;
	}
	if (!child) {
		close(p[0]);
		/* Non-blocking on the child's side only: status flags belong to
		 * each end's open file description. */
		if (fcntl(p[1], F_SETFL, O_NONBLOCK) || write_pattern(p[1], 0, FIRST))
			_exit(4);
		put_file("child-wrote", "%d", getpid());
		wait_go();
		if (!(fcntl(p[1], F_GETFL) & O_NONBLOCK))
			_exit(6);
		_exit(write_pattern(p[1], FIRST, SECOND) ? 5 : 0);
	}
	close(p[1]);
	{
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		char path[4096];

		snprintf(path, sizeof(path), "%s/child-wrote", dir);
		while (access(path, F_OK))
			nanosleep(&ts, NULL);
	}
	put_file("ready", "%d %d", getpid(), child);
	wait_go();
	for (;;) {
		ssize_t n = read(p[0], got + total, sizeof(got) - total);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			put_file("result", "FAIL read: %s", strerror(errno));
			return 1;
		}
		if (!n)
			break;
		total += n;
		if (total == sizeof(got))
			break;
	}
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status)) {
		put_file("result", "FAIL child %d status 0x%x", child, status);
		return 1;
	}
	if (total != FIRST + SECOND) {
		put_file("result", "FAIL got %zu bytes, want %d", total, FIRST + SECOND);
		return 1;
	}
	for (size_t i = 0; i < total; i++) {
		if (got[i] != pattern(i)) {
			put_file("result", "FAIL byte %zu is 0x%02x, want 0x%02x", i, got[i],
				 pattern(i));
			return 1;
		}
	}
	if (fcntl(p[0], F_GETFL) & O_NONBLOCK) {
		put_file("result", "FAIL the read end became O_NONBLOCK");
		return 1;
	}
	cap = fcntl(p[0], F_GETPIPE_SZ);
	if (cap != PIPE_CAP) {
		put_file("result", "FAIL pipe capacity %d, want %d", cap, PIPE_CAP);
		return 1;
	}
	put_file("result", "OK %zu bytes in order, then EOF; capacity %d", total, cap);
	return 0;
}
