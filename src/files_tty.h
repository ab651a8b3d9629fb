/* File kind of src/files.h for terminals (files_tty.c), and --shell-job.
 *
 * Without --shell-job, any terminal fd (a /dev/pts/N, /dev/tty, a console,
 * a pty master) makes dump refuse, suggesting --shell-job.
 *
 * With `dump --shell-job` (a job started from an interactive shell): an fd
 * on the holder's controlling terminal, or on /dev/tty, is recorded as
 * FD_TTY; any other terminal is still refused. With `restore --shell-job`
 * each such fd is reopened on the terminal of minicr's stdin (or /dev/tty),
 * with its recorded access mode and status flags. The tree keeps its
 * recorded sessions and groups; a root whose session was the shell's joins
 * minicr's session and so has minicr's terminal as its controlling terminal
 * already. A session leader of the tree holding the terminal gets it as its
 * controlling terminal (TIOCSCTTY, remote). A group leader whose group was
 * the terminal's foreground group at dump is made the foreground group of
 * minicr's terminal (TIOCSPGRP, remote, with its signals blocked). */
#ifndef MINICR_FILES_TTY_H
#define MINICR_FILES_TTY_H

#include <stdbool.h>

#include "files.h"

extern const struct file_ops files_tty_ops;

/* Set by `dump --shell-job` / `restore --shell-job` before the files are
 * collected or opened. */
void files_tty_set_shell_job(bool on);

/* Is rdev (a character device) a terminal this kind takes? Pure. */
bool files_tty_rdev(dev_t rdev);

/* tty_nr and tpgid (fields 7 and 8) of a /proc/PID/stat text. Pure;
 * -EINVAL if malformed. */
int files_tty_stat_parse(const char *stat, int *tty_nr, int *tpgid);

/* Does rdev name the device encoded in a /proc/PID/stat tty_nr? Pure. */
bool files_tty_is_nr(dev_t rdev, int tty_nr);

#endif
