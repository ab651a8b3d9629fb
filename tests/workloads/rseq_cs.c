/* minicr-test-rseq FILE: a thread that lives inside an rseq critical
 * section (an endless loop the kernel aborts on every preemption, signal or
 * migration), counting its aborts; every 50 ms the main thread signals it
 * (so an abort is due even on an idle machine, where nothing preempts it)
 * and writes the count into FILE, fixed width at offset 0. The count goes on
 * rising only if a thread frozen inside the section is aborted to its
 * handler again after restore (tests/cr/scenarios/rseq.sh). */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/rseq.h>
#include <unistd.h>

static volatile long aborts;

static void nudge(int sig)
{
	(void)sig;
}

static void *spin(void *arg)
{
	struct rseq *rs = (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);

	(void)arg;
	for (;;) {
		/* struct rseq_cs {version, flags, start_ip, post_commit_offset,
		 * abort_ip}; the abort handler is preceded by the signature. */
		__asm__ volatile(
			".pushsection __rseq_cs, \"aw\"\n"
			".balign 32\n"
			"3: .long 0, 0\n"
			".quad 1f, (2f - 1f), 4f\n"
			".popsection\n"
			"leaq 3b(%%rip), %%rax\n"
			"movq %%rax, %[cs]\n"
			"1: jmp 1b\n"
			"2:\n"
			".pushsection __rseq_failure, \"ax\"\n"
			".byte 0x0f, 0xb9, 0x3d\n"
			".long 0x53053053\n"
			"4: jmp 5f\n"
			".popsection\n"
			"5:\n"
			: [cs] "=m" (rs->rseq_cs) : : "rax", "memory");
		aborts++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th;
	char line[32];
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: minicr-test-rseq FILE\n");
		return 2;
	}
	if (!__rseq_size) {
		fprintf(stderr, "minicr-test-rseq: glibc registered no rseq area\n");
		return 1;
	}
	fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	if (signal(SIGUSR1, nudge) == SIG_ERR || pthread_create(&th, NULL, spin, NULL)) {
		fprintf(stderr, "minicr-test-rseq: cannot create the thread\n");
		return 1;
	}
	for (;;) {
		pthread_kill(th, SIGUSR1);
		snprintf(line, sizeof(line), "%20ld\n", aborts);
		if (pwrite(fd, line, strlen(line), 0) < 0) {
			perror("pwrite");
			return 1;
		}
		usleep(50000);
	}
}
