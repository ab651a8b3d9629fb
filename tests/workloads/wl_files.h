/* Talking to a test scenario through files in a directory, for the
 * self-checking memory workloads (mem_cow.c, mem_share.c): a file appears
 * whole (written aside, then renamed), and a workload waits for one. */
#ifndef MINICR_WL_FILES_H
#define MINICR_WL_FILES_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* DIR/name := text; exits on failure. */
static inline void wl_put(const char *dir, const char *name, const char *text)
{
	char path[600], tmp[610];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || close(fd) ||
	    rename(tmp, path)) {
		perror(path);
		exit(1);
	}
}

/* 0 once DIR/name exists, -1 after seconds. */
static inline int wl_await(const char *dir, const char *name, int seconds)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	for (int i = 0; i < seconds * 100; i++) {
		if (!access(path, F_OK))
			return 0;
		usleep(10000);
	}
	return -1;
}

#endif
