/* minicr-test-event DIR: an event loop on epoll for tests/integration/
 * event-*.sh. It is one task, its stdio on /dev/null or files.
 *
 * epoll watches, with distinct data words:
 *   a periodic timerfd (CLOCK_MONOTONIC, 20 ms)   data 0x1111
 *   a signalfd for SIGUSR1 (blocked)              data 0x2222, edge-triggered
 *   an eventfd the loop kicks on every tick      data 0x3333
 *   the read end of a pipe it writes a byte to    data 0x4444
 *     on every tick
 * Outside epoll: an eventfd whose counter is 0x123456789 (above 32 bits,
 * read and written back on every tick: counter= shows what was read), an
 * EFD_SEMAPHORE eventfd holding 3, and a one-shot timerfd that expires
 * 50 ms after start and is not read until DIR/phase2 exists.
 *
 * After every tick it writes DIR/status (atomically):
 *   ticks=N signals=N kicks=N piped=N counter=0x... sem=N oneshot=N errors=N
 * where sem and oneshot are -1 until phase2 (then: what a read of each
 * returned; sem reads one unit per read, until EAGAIN: 3 expected).
 * errors counts unexpected events (unknown data words, failed reads). The
 * first status also creates DIR/ready holding the PID. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <fcntl.h>
#include <unistd.h>

#define COUNTER 0x123456789ULL

static const char *dir;

static void put_file(const char *name, const char *text)
{
	char tmp[4096], path[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(tmp, "w");
	if (!f)
		exit(2);
	fputs(text, f);
	if (fclose(f))
		exit(2);
	if (rename(tmp, path))
		exit(2);
}

int main(int argc, char **argv)
{
	struct itimerspec per = { { 0, 20000000 }, { 0, 20000000 } };
	struct itimerspec once = { { 0, 0 }, { 0, 50000000 } };
	unsigned long long counter = 0;
	long long ticks = 0, signals = 0, kicks = 0, errors = 0, sem = -1, oneshot = -1;
	int ready = 0;
	int ep, tfd, sfd, kfd, cfd, semfd, ofd, pfd[2];
	long long piped = 0;
	char buf[512], path[4096];
	struct epoll_event ev;
	uint64_t v;
	sigset_t m;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	dir = argv[1];
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	sigprocmask(SIG_BLOCK, &m, NULL);
	ep = epoll_create1(EPOLL_CLOEXEC);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	sfd = signalfd(-1, &m, SFD_NONBLOCK);
	kfd = eventfd(0, EFD_NONBLOCK);
	cfd = eventfd(0, EFD_NONBLOCK);
	semfd = eventfd(3, EFD_NONBLOCK | EFD_SEMAPHORE);
	ofd = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK);
	if (ep < 0 || tfd < 0 || sfd < 0 || kfd < 0 || cfd < 0 || semfd < 0 || ofd < 0 ||
	    pipe2(pfd, O_NONBLOCK))
		return 3;
	v = COUNTER;
	if (write(cfd, &v, 8) != 8 || timerfd_settime(tfd, 0, &per, NULL) ||
	    timerfd_settime(ofd, 0, &once, NULL))
		return 3;
	ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = 0x1111 };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev))
		return 3;
	ev = (struct epoll_event){ .events = EPOLLIN | EPOLLET, .data.u64 = 0x2222 };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev))
		return 3;
	ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = 0x3333 };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, kfd, &ev))
		return 3;
	ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = 0x4444 };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, pfd[0], &ev))
		return 3;
	snprintf(path, sizeof(path), "%s/phase2", dir);

	for (;;) {
		struct epoll_event evs[8];
		int n = epoll_wait(ep, evs, 8, 1000);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			errors++;
			sleep(1);
			continue;
		}
		for (int i = 0; i < n; i++) {
			struct signalfd_siginfo si;

			switch (evs[i].data.u64) {
			case 0x1111:
				if (read(tfd, &v, 8) == 8) {
					ticks += v;
					v = 1;
					if (write(kfd, &v, 8) != 8 || write(pfd[1], "x", 1) != 1)
						errors++;
				}
				break;
			case 0x2222:
				/* edge-triggered: drain */
				while (read(sfd, &si, sizeof(si)) == sizeof(si))
					signals += si.ssi_signo == SIGUSR1 ? 1 : 0;
				break;
			case 0x3333:
				if (read(kfd, &v, 8) == 8)
					kicks += v;
				break;
			case 0x4444: {
				char b[64];
				ssize_t got = read(pfd[0], b, sizeof(b));

				if (got > 0)
					piped += got;
				else
					errors++;
				break;
			}
			default:
				errors++;
			}
		}
		if (read(cfd, &v, 8) != 8)
			v = 0;
		counter = v;
		if (counter != COUNTER)
			errors++;
		v = COUNTER;
		if (write(cfd, &v, 8) != 8)
			errors++;
		if (sem < 0 && access(path, F_OK) == 0) {
			sem = 0;
			while (read(semfd, &v, 8) == 8)
				sem += v;
			oneshot = read(ofd, &v, 8) == 8 ? (long long)v : 0;
		}
		snprintf(buf, sizeof(buf),
			 "ticks=%lld signals=%lld kicks=%lld piped=%lld counter=0x%llx sem=%lld oneshot=%lld "
			 "errors=%lld\n", ticks, signals, kicks, piped, counter,
			 sem, oneshot, errors);
		put_file("status", buf);
		if (!ready && ticks) {
			snprintf(buf, sizeof(buf), "%d\n", getpid());
			put_file("ready", buf);
			ready = 1;
		}
	}
}
