/* File kinds of src/files.h for notification groups and process file
 * descriptors (proto/fd-notify.proto); fdinfo parsing in the pure
 * src/fdinfo_notify.h.
 *
 * inotify (files_notify.c): each watch is recorded by wd, mask and the
 * path its file handle resolves to at dump (open_by_handle_at() on a mount
 * of its filesystem, then the fd's link); restored in minicr by
 * inotify_init1() + inotify_add_watch(path, mask | IN_DONT_FOLLOW) with the
 * SAME wd: the kernel hands wds out cyclically from 1, so minicr adds the
 * watches in ascending wd order and, before each, adds and removes the
 * watch until the allocator reaches its number (the IN_IGNORED events
 * this queues are read off before the task gets the fd). Refused at dump:
 * a watch on a deleted file or one no path reaches, a wd above
 * NOTIFY_WD_MAX, and queued events (FIONREAD), which are not recorded.
 * Not restored: the allocator's position after the highest wd, so a watch
 * added after restore gets the next number above the highest live wd, not
 * above one removed before the dump.
 *
 * fanotify (files_notify.c): fanotify_init(flags, event_f_flags) in minicr,
 * then fanotify_mark(FAN_MARK_ADD) per mark: inode marks by the path of
 * their file handle; mount marks by the mount point of that mount id,
 * filesystem marks by the mount point of a mount of that device, both
 * looked up in the holder's mountinfo and marked through
 * /proc/PID/root of the restored holder (post_install), so a mount mark
 * lands on the mount of the tree's own mount namespace; ignored masks by a
 * second FAN_MARK_IGNORED_MASK call. Refused at dump: queued
 * events, permission events in a mark (an event read but not answered
 * cannot be seen from outside), FAN_MARK_IGNORE marks and mark kinds
 * fdinfo shows that are none of the three.
 *
 * pidfd (files_pidfd.c): a pidfd of a task (a zombie too) or a live
 * thread of the tree is pidfd_open()ed in minicr on that task as restored
 * (PIDFD_THREAD kept; O_NONBLOCK is a status flag, set as for every file).
 * The tree exists by then: files are restored once it is built and seized.
 * Refused at dump: a pidfd of a task that is outside the tree, outside
 * minicr's PID namespace, or reaped. */
#ifndef MINICR_FILES_NOTIFY_H
#define MINICR_FILES_NOTIFY_H

#include "files.h"

/* Highest inotify wd minicr reproduces: getting wd N costs N add/remove
 * pairs at restore. */
#define NOTIFY_WD_MAX 65536

extern const struct file_ops files_inotify_ops, files_fanotify_ops, files_pidfd_ops;

#endif
