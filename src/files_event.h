/* File kinds of src/files.h for anonymous-inode event files: eventfd,
 * epoll, signalfd, timerfd (files_event.c). State comes from fdinfo
 * (src/fdinfo_misc.h); each is recreated in minicr by its own system call,
 * except epoll's watches: they name the task's fds, so they are added by
 * remote epoll_ctl() in the task once all its fds are installed
 * (post_install). */
#ifndef MINICR_FILES_EVENT_H
#define MINICR_FILES_EVENT_H

#include "files.h"

extern const struct file_ops files_eventfd_ops, files_epoll_ops, files_signalfd_ops,
	files_timerfd_ops;

#endif
