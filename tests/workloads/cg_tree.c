/* minicr-test-cgroups DIR: a root, a child with a second thread, and a
 * child that exits on SIGUSR1 and stays a zombie (the root never reaps).
 * Once all exist it writes "ROOT CHILD ZOMBIE" (PIDs) to DIR/pids; the test
 * (tests/cr/scenarios/cgroups*.sh) moves them into its cgroups, then lets
 * the zombie exit. Everything else just waits: the test checks the cgroups
 * of the restored tree from outside. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *idle(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	char path[4096], tmp[4096];
	pid_t child, zombie;
	sigset_t usr1;
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	child = fork();
	if (child < 0)
		return 1;
	if (child == 0) {
		pthread_t t;

		if (pthread_create(&t, NULL, idle, NULL))
			_exit(1);
		idle(NULL);
	}
	zombie = fork();
	if (zombie < 0)
		return 1;
	if (zombie == 0) {
		int sig;

		sigwait(&usr1, &sig);
		_exit(5);
	}
	snprintf(path, sizeof(path), "%s/pids", argv[1]);
	snprintf(tmp, sizeof(tmp), "%s/pids.tmp", argv[1]);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%d %d %d\n", getpid(), child, zombie) < 0 || fclose(f) ||
	    rename(tmp, path))
		return 1;
	idle(NULL);
	return 0;
}
