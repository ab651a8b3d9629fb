/* minicr-test-share: a tree holding state minicr refuses to dump
 * (tests/cr/scenarios/dump-refusals.sh):
 *
 *   minicr-test-share READY-FILE KIND...
 *
 * For each KIND the root starts one child:
 *   vm       clone(CLONE_VM): the child shares the root's address space
 *   fs       clone(CLONE_FS): the child shares the root's cwd/root/umask
 *   exitsig  clone() with exit_signal SIGUSR1 instead of SIGCHLD
 *   netns    a child in a network namespace of its own (unshare)
 *   mempolicy  a child bound to NUMA node 0 (set_mempolicy(MPOL_BIND))
 *   sysvshm  a child with a SysV shared memory segment attached (removed
 *            at once with IPC_RMID: it goes with the child)
 *   plain    a child with nothing unusual
 * then creates READY-FILE and sleeps; every child sleeps too. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#define STACK_SIZE (256 * 1024)

static int sleeper(void *arg)
{
	unsigned long node0 = 1;
	int id;

	/* MPOL_BIND is 2 (linux/mempolicy.h); node 0 exists everywhere. */
	if (arg && !strcmp(arg, "mempolicy") &&
	    syscall(SYS_set_mempolicy, 2, &node0, 8 * sizeof(node0)) < 0) {
		perror("minicr-test-share: set_mempolicy");
		exit(1);
	}
	if (arg && !strcmp(arg, "sysvshm")) {
		id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
		if (id < 0 || shmat(id, NULL, 0) == (void *)-1 || shmctl(id, IPC_RMID, NULL) < 0) {
			perror("minicr-test-share: SysV shm");
			exit(1);
		}
	}
	for (;;)
		pause();
	return 0;
}

static void start(int flags, void *arg)
{
	/* CLONE_VM children run on a stack of their own in the shared space. */
	char *stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);

	if (stack == MAP_FAILED || clone(sleeper, stack + STACK_SIZE, flags, arg) < 0) {
		perror("minicr-test-share: clone");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	int fd;

	if (argc < 3) {
		fprintf(stderr, "usage: minicr-test-share READY-FILE KIND...\n");
		return 2;
	}
	/* Our own SIGUSR1 from the exitsig child must not kill us. */
	signal(SIGUSR1, SIG_IGN);
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "vm"))
			start(CLONE_VM | SIGCHLD, NULL);
		else if (!strcmp(argv[i], "fs"))
			start(CLONE_FS | SIGCHLD, NULL);
		else if (!strcmp(argv[i], "exitsig"))
			start(SIGUSR1, NULL);
		else if (!strcmp(argv[i], "netns"))
			start(CLONE_NEWNET | SIGCHLD, NULL);
		else if (!strcmp(argv[i], "mempolicy"))
			start(SIGCHLD, argv[i]);
		else if (!strcmp(argv[i], "sysvshm"))
			start(SIGCHLD, argv[i]);
		else if (!strcmp(argv[i], "plain"))
			start(SIGCHLD, NULL);
		else {
			fprintf(stderr, "minicr-test-share: unknown kind %s\n", argv[i]);
			return 2;
		}
	}
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	close(fd);
	return sleeper(NULL);
}
