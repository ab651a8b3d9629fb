/* Unix sockets (FD_UNIX_SK), see proto/sk-unix.proto.
 *
 * Dump: type, state, name, peer, queue lengths and a listener's pending
 * connections come from one unix_diag dump of minicr's network namespace
 * (sk_diag.h), taken when the first socket fd is classified (the tree is
 * frozen). The receive queue is read without consuming it: MSG_PEEK at
 * SO_PEEK_OFF offsets on minicr's pidfd_getfd copy, one entry per
 * datagram/record, then SO_PEEK_OFF back to what the task had (recorded
 * and set again at restore if it set one); other options by
 * src/sockopts.h. Refused, naming task and
 * fd: file descriptors in flight (SCM_RIGHTS), a pending connection whose
 * client is outside the tree or already sent data, queued datagrams of an
 * unnamed socket not connected both ways, a datagram socket connected one
 * way to an unnamed one. A socket connected to one outside the tree is
 * external.
 *
 * Restore (in minicr): a connected pair, both in the tree, comes from one
 * socketpair() (names bound before connect() bound again); a socket whose
 * peer is gone from one socketpair() whose other end is closed. Each queue
 * is sent again from the other end, so it lands in the right receive queue
 * in order. A listener is bound (its stale socket file unlinked first) and
 * listen()s; its accepted connections in the tree are made again through
 * it and accept()ed at once, so the accepted end has the listener's name
 * again; then its pending connections, in order, by client sockets
 * connect()ing to it: those are the clients' files. A datagram socket
 * connected one way to a named one connects to that name once the
 * registry made it; its queue is sent from there. Queued datagrams of a
 * bound socket without a peer are sent to its name from a temporary
 * socket. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "files.h"
#include "log.h"
#include "sk-unix.pb-c.h"
#include "sk_diag.h"
#include "sockopts.h"
#include "util.h"

#define RCV_SHUTDOWN  1
#define SEND_SHUTDOWN 2
#define MAX_DGRAM     (4u << 20)   /* larger than any sndbuf allows */
#define MAX_MSGS      100000u

static struct unix_diag_table diag;
static int diag_state;      /* 0 not collected, 1 ok, -errno failed */

static const struct unix_diag_info *diag_find(uint32_t ino)
{
	if (!diag_state)
		diag_state = sk_diag_unix_collect(&diag) ?: 1;
	return diag_state == 1 ? sk_diag_unix_find(&diag, ino) : NULL;
}

/* ---- dump ---- */

static bool unix_match(const struct fd_dump_info *fi)
{
	return S_ISSOCK(fi->st.st_mode) && !strncmp(fi->link, "socket:", 7) &&
	       diag_find(fi->st.st_ino);
}

/* The first fd in the tree on socket inode ino, or NULL. */
static const struct fd_dump_info *tree_socket(const struct files_dump *d, uint32_t ino)
{
	for (size_t i = 0; i < files_dump_nr_fds(d); i++) {
		const struct fd_dump_info *o = files_dump_fd(d, i);

		if (S_ISSOCK(o->st.st_mode) && o->st.st_ino == ino && o->ops == &files_unix_ops)
			return o;
	}
	return NULL;
}

/* The listener client waits on, or NULL. unix_diag lists a listener's
 * pending connections by their clients' inodes (the peers of the embryo
 * sockets in its queue, which are in no table). */
static const struct unix_diag_info *listener_of(uint32_t client)
{
	for (size_t i = 0; i < diag.nr; i++)
		for (size_t j = 0; j < diag.e[i].nr_icons; j++)
			if (diag.e[i].icons[j] == client)
				return &diag.e[i];
	return NULL;
}

/* The listener named like ui (ui was accept()ed from it: an accepted
 * socket reports its listener's name), or NULL. */
static const struct unix_diag_info *listener_by_name(const struct unix_diag_info *ui)
{
	for (size_t i = 0; i < diag.nr; i++)
		if (diag.e[i].state == TCP_LISTEN && diag.e[i].type == ui->type &&
		    diag.e[i].name_len == ui->name_len &&
		    !memcmp(diag.e[i].name, ui->name, ui->name_len))
			return &diag.e[i];
	return NULL;
}

static bool is_listener_name(const struct unix_diag_info *ui)
{
	return listener_by_name(ui) != NULL;
}

struct msgs {
	ProtobufCBinaryData *m;
	size_t nr;
	bool named_sender;      /* a datagram came from a socket with a name */
};

static int msgs_add(struct msgs *q, const void *buf, size_t len)
{
	ProtobufCBinaryData *nm = realloc(q->m, (q->nr + 1) * sizeof(*nm));

	if (!nm)
		return -ENOMEM;
	q->m = nm;
	nm[q->nr].len = len;
	nm[q->nr].data = malloc(len ? len : 1);
	if (!nm[q->nr].data)
		return -ENOMEM;
	memcpy(nm[q->nr].data, buf, len);
	q->nr++;
	return 0;
}

/* SCM_RIGHTS in a peeked message installed fds in minicr: close them,
 * and say so. */
static bool drop_rights(struct msghdr *mh)
{
	bool found = false;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		found = true;
		for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++)
			close(((int *)CMSG_DATA(c))[i]);
	}
	return found;
}

/* The receive queue of the socket of local fd, unchanged; *peek_off is
 * the task's own SO_PEEK_OFF (-1: none), put back afterwards. */
static int peek_queue(int fd, int type, bool rcv_shutdown, const char *what, struct msgs *q,
		      int *peek_off)
{
	size_t cap = type == SOCK_STREAM ? 65536 : MAX_DGRAM;
	char ctl[CMSG_SPACE(sizeof(int) * 253) + CMSG_SPACE(sizeof(struct ucred))];
	socklen_t olen = sizeof(*peek_off);
	uint8_t *blob = NULL, *buf;
	int zero = 0, ret = 0;
	size_t blob_len = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, peek_off, &olen) < 0) {
		ret = -errno;
		pr_err("%s: getsockopt SO_PEEK_OFF: %s", what, errstr(ret));
		return ret;
	}
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	if (setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero)) < 0) {
		ret = -errno;
		pr_err("%s: SO_PEEK_OFF 0: %s", what, errstr(ret));
		goto out;
	}
	for (size_t n = 0;; n++) {
		struct iovec iov = { buf, cap };
		struct sockaddr_un from;
		struct msghdr mh = {
			.msg_name = &from, .msg_namelen = sizeof(from),
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = ctl, .msg_controllen = sizeof(ctl),
		};
		ssize_t got;

		if (n == MAX_MSGS) {
			pr_err("%s: more than %u queued messages", what, MAX_MSGS);
			ret = -E2BIG;
			break;
		}
		got = recvmsg(fd, &mh, MSG_PEEK | MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (got < 0) {
			if (errno != EAGAIN)  {
				ret = -errno;
				pr_err("%s: recvmsg(MSG_PEEK): %s", what, errstr(ret));
			}
			break;
		}
		if (drop_rights(&mh)) {
			pr_err("%s: its receive queue holds file descriptors in flight "
			       "(SCM_RIGHTS); minicr cannot dump them", what);
			ret = -EOPNOTSUPP;
			break;
		}
		if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
			pr_err("%s: a queued message does not fit in %zu bytes", what, cap);
			ret = -E2BIG;
			break;
		}
		/* A socket shut down for reading returns 0 once its queue is
		 * empty, like an empty datagram would: with RCV_SHUTDOWN, 0 is
		 * the end. */
		if (!got && (type == SOCK_STREAM || rcv_shutdown))
			break;
		if (type == SOCK_STREAM) {
			uint8_t *nb;

			nb = realloc(blob, blob_len + got);
			if (!nb) {
				ret = -ENOMEM;
				break;
			}
			blob = nb;
			memcpy(blob + blob_len, buf, got);
			blob_len += got;
		} else {
			if (mh.msg_namelen > offsetof(struct sockaddr_un, sun_path))
				q->named_sender = true;
			ret = msgs_add(q, buf, got);
			if (ret)
				break;
		}
	}
	if (!ret && blob_len)
		ret = msgs_add(q, blob, blob_len);
	/* Back to the task's peek offset (-1 unless it set one): the queue
	 * and the socket look untouched. */
	if (setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, peek_off, sizeof(*peek_off)) < 0 && !ret) {
		ret = -errno;
		pr_err("%s: SO_PEEK_OFF %d: %s", what, *peek_off, errstr(ret));
	}
out:
	free(blob);
	free(buf);
	return ret;
}

/* A listener's accepted sockets in the tree whose peer is in the tree too
 * or closed (those are restored through it). */
static int find_accepted(const struct files_dump *d, const struct unix_diag_info *l,
			 UnixSkEntry *se)
{
	for (size_t i = 0; i < diag.nr; i++) {
		const struct unix_diag_info *e = &diag.e[i];
		const struct fd_dump_info *efi;
		uint32_t *n;

		if (e == l || e->state != TCP_ESTABLISHED || e->type != l->type ||
		    e->name_len != l->name_len || memcmp(e->name, l->name, l->name_len))
			continue;
		efi = tree_socket(d, e->ino);
		if (!efi || (e->peer && !tree_socket(d, e->peer)))
			continue;
		n = realloc(se->accepted_file_ids, (se->n_accepted_file_ids + 1) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		se->accepted_file_ids = n;
		n[se->n_accepted_file_ids++] = efi->file_id;
	}
	return 0;
}

/* Is the socket file of ui's path name gone (bind, then unlink)? Looked
 * up through the holder's root: the path is the task's. Another file at
 * the path is refused: restore could not bind the name without removing
 * that file. */
static int dump_name_unlinked(const struct fd_dump_info *fi, const struct unix_diag_info *ui,
			      UnixSkEntry *se, const char *what)
{
	char path[sizeof(ui->name) + 64];
	struct stat st;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/root%.*s", fi->pid, (int)ui->name_len, ui->name);
	if (lstat(path, &st) < 0) {
		ret = -errno;
		if (ret != -ENOENT) {
			pr_err("%s: cannot stat its socket file %s: %s", what, path, errstr(ret));
			return ret;
		}
		se->has_name_unlinked = 1;
		se->name_unlinked = 1;
		return 0;
	}
	if (st.st_ino != ui->vfs_ino) {
		pr_err("%s: its socket file %.*s was unlinked and another file (inode %lu) is "
		       "at that path now; minicr cannot bind the name again", what,
		       (int)ui->name_len, ui->name, (unsigned long)st.st_ino);
		return -EOPNOTSUPP;
	}
	return 0;
}

static int unix_dump(struct files_dump *d, const struct fd_dump_info *fi, FileEntry *fe)
{
	const struct unix_diag_info *ui = diag_find(fi->st.st_ino), *peer = NULL;
	const struct fd_dump_info *pfi;
	struct msgs q = { 0 };
	int fd, ret, peek_off = -1;
	UnixSkEntry *se;
	char what[96];

	snprintf(what, sizeof(what), "task %d: fd %d (%s)", fi->pid, fi->fd, fi->link);
	if (!ui)
		return -ENOENT;
	if (ui->type != SOCK_STREAM && ui->type != SOCK_DGRAM && ui->type != SOCK_SEQPACKET) {
		pr_err("%s: unix socket of type %u; minicr cannot dump it", what, ui->type);
		return -EOPNOTSUPP;
	}
	if (ui->state != TCP_ESTABLISHED && ui->state != TCP_CLOSE && ui->state != TCP_LISTEN) {
		pr_err("%s: unix socket in state %u; minicr cannot dump it", what, ui->state);
		return -EOPNOTSUPP;
	}
	se = malloc(sizeof(*se));
	if (!se)
		return -ENOMEM;
	unix_sk_entry__init(se);
	fe->unix_sk = se;
	se->ino = ui->ino;
	se->type = ui->type;
	se->state = ui->state;
	if (ui->name_len) {
		se->has_name = 1;
		se->name.len = ui->name_len;
		se->name.data = malloc(ui->name_len);
		if (!se->name.data)
			return -ENOMEM;
		memcpy(se->name.data, ui->name, ui->name_len);
	}
	if (ui->name_len && ui->name[0] && ui->has_vfs) {
		ret = dump_name_unlinked(fi, ui, se, what);
		if (ret)
			return ret;
	}
	se->has_shutdown = 1;
	se->shutdown = ui->shutdown;

	if (ui->state == TCP_LISTEN) {
		if (!ui->name_len) {
			pr_err("%s: listening unix socket without a name", what);
			return -EOPNOTSUPP;
		}
		se->has_backlog = 1;
		se->backlog = ui->wqueue;
		se->pending_file_ids = calloc(ui->nr_icons ? ui->nr_icons : 1, sizeof(uint32_t));
		if (!se->pending_file_ids)
			return -ENOMEM;
		for (size_t i = 0; i < ui->nr_icons; i++) {
			pfi = ui->icons[i] ? tree_socket(d, ui->icons[i]) : NULL;
			if (!pfi) {
				pr_err("%s: its pending connection %zu comes from %s; minicr "
				       "cannot dump it", what, i + 1,
				       ui->icons[i] ? "a socket outside the tree" : "a closed socket");
				return -EOPNOTSUPP;
			}
			/* The client's data waits in the embryo socket, which
			 * no fd names and unix_diag does not list (the client
			 * reports peer 0): its send queue tells. */
			if (diag_find(ui->icons[i]) && diag_find(ui->icons[i])->wqueue) {
				pr_err("%s: its pending connection %zu (from socket:[%u]) already "
				       "carries data; minicr cannot dump it", what, i + 1,
				       ui->icons[i]);
				return -EOPNOTSUPP;
			}
			se->pending_file_ids[se->n_pending_file_ids++] = pfi->file_id;
		}
		ret = find_accepted(d, ui, se);
		if (ret)
			return ret;
	} else if (ui->peer) {
		se->has_peer_ino = 1;
		se->peer_ino = ui->peer;
		peer = diag_find(ui->peer);
		pfi = tree_socket(d, ui->peer);
		if (pfi) {
			se->has_peer_file_id = 1;
			se->peer_file_id = pfi->file_id;
			/* A stream socket named like a listener was accepted
			 * from it (its name is the listener's); any other name
			 * was bound before connect() and is bound again. */
			if (ui->name_len && ui->type != SOCK_DGRAM && is_listener_name(ui))
				se->has_accepted = se->accepted = 1;
			if (ui->type == SOCK_DGRAM && (!peer || !peer->name_len) &&
			    (!peer || peer->peer != ui->ino)) {
				pr_err("%s: datagram socket connected to an unnamed socket that "
				       "is not connected back; minicr cannot restore it", what);
				return -EOPNOTSUPP;
			}
		} else if (listener_of(ui->ino)) {
			const struct unix_diag_info *l = listener_of(ui->ino);

			pfi = tree_socket(d, l->ino);
			if (!pfi)
				return files_mark_external(fi, fe, fi->link,
							   "it waits to be accepted by a listener outside the tree",
							   NULL);
			if (ui->wqueue) {
				pr_err("%s: it sent data on a connection not yet accepted; "
				       "minicr cannot dump that", what);
				return -EOPNOTSUPP;
			}
			if (ui->name_len) {
				pr_err("%s: pending client bound to a name; minicr cannot restore it",
				       what);
				return -EOPNOTSUPP;
			}
			se->has_listener_file_id = 1;
			se->listener_file_id = pfi->file_id;
		} else if (peer) {
			return files_mark_external(fi, fe, fi->link,
						   "it is connected to a socket outside the tree", NULL);
		} else {
			pr_err("%s: connected to socket inode %u, which is not in minicr's "
			       "network namespace; minicr cannot dump it", what, ui->peer);
			return -EOPNOTSUPP;
		}
	}
	/* A stream socket connected with no peer inode: the peer was closed
	 * (the kernel reports inode 0); restored as a pair whose other end is
	 * closed. */
	if (ui->type != SOCK_DGRAM && ui->state == TCP_ESTABLISHED && !se->has_listener_file_id) {
		/* This end or its peer was accepted: it has a listener's name
		 * (the client may have a name of its own too). */
		const struct unix_diag_info *l = ui->name_len ? listener_by_name(ui) : NULL;

		if (!l && peer && peer->name_len)
			l = listener_by_name(peer);

		pfi = l ? tree_socket(d, l->ino) : NULL;
		if (pfi) {
			se->has_conn_listener_file_id = 1;
			se->conn_listener_file_id = pfi->file_id;
		}
	}

	fd = files_dump_local_fd(d, fi);
	if (fd < 0)
		return fd;
	ret = sockopts_dump(fd, AF_UNIX, ui->type, 0, what, &se->opts);     /* logs */
	if (ret)
		return ret;
	/* A stream or seqpacket socket has a queue only once connected
	 * (recvmsg fails with EINVAL / ENOTCONN before). */
	if (ui->state == TCP_LISTEN || (ui->type != SOCK_DGRAM && ui->state != TCP_ESTABLISHED))
		return 0;
	ret = peek_queue(fd, ui->type, ui->shutdown & RCV_SHUTDOWN, what, &q, &peek_off);
	se->queue = q.m;
	se->n_queue = q.nr;
	if (ret)
		return ret;
	if (peek_off >= 0) {
		se->has_peek_off = 1;
		se->peek_off = peek_off;
	}
	/* An out-of-band byte is peeked inline with the rest: it would come
	 * back as ordinary data. */
	if (ui->type == SOCK_STREAM) {
		char c;

		if (recv(fd, &c, 1, MSG_OOB | MSG_PEEK | MSG_DONTWAIT) == 1) {
			pr_err("%s: an out-of-band byte (MSG_OOB) is pending; minicr cannot "
			       "dump it", what);
			return -EOPNOTSUPP;
		}
	}
	/* The queue as unix_diag counted it (the tree is frozen): bytes the
	 * peek did not see would be lost. */
	if (ui->has_rqlen && ui->type != SOCK_DGRAM) {
		uint64_t total = 0;

		for (size_t i = 0; i < q.nr; i++)
			total += q.m[i].len;
		if (total != ui->rqueue) {
			pr_err("%s: %u bytes queued, %" PRIu64 " readable by peeking; minicr "
			       "cannot dump it", what, ui->rqueue, total);
			return -EOPNOTSUPP;
		}
	}
	/* Queued datagrams of an unconnected socket are sent again to its
	 * name from a temporary unnamed socket: a sender's name would be
	 * lost (recvfrom() would say another address). */
	if (q.named_sender && ui->type == SOCK_DGRAM && !se->has_peer_file_id) {
		pr_err("%s: datagrams queued from a named sender on an unconnected socket; "
		       "minicr cannot send them again from that address", what);
		return -EOPNOTSUPP;
	}
	/* Queued datagrams come back from the peer of a mutually connected
	 * pair, else sent to this socket's name. */
	if (q.nr && ui->type == SOCK_DGRAM && !ui->name_len &&
	    !(se->has_peer_file_id && peer && peer->peer == ui->ino)) {
		pr_err("%s: datagrams queued on an unnamed socket not connected both ways; "
		       "minicr cannot send them to it again", what);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* ---- restore ---- */

static socklen_t make_addr(const UnixSkEntry *se, struct sockaddr_un *a)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	memcpy(a->sun_path, se->name.data, se->name.len);
	return offsetof(struct sockaddr_un, sun_path) + se->name.len;
}

static int new_socket(const FileEntry *fe, const char *what)
{
	int fd = socket(AF_UNIX, fe->unix_sk->type | SOCK_CLOEXEC, 0), ret;

	if (fd < 0) {
		ret = -errno;
		pr_err("%s: socket: %s", what, errstr(ret));
		return ret;
	}
	return fd;
}

/* Options and status flags; the framework sets the flags of the file it
 * opened itself, not of those handed to the registry, so it is done here
 * for every socket made. */
static int set_opts(int fd, const FileEntry *fe, const char *what)
{
	const UnixSkEntry *se = fe->unix_sk;
	int v, ret;

	ret = sockopts_restore(fd, AF_UNIX, se->type, 0, se->opts, what);     /* logs */
	if (ret || !se->has_peek_off)
		return ret;
	v = se->peek_off;
	if (setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &v, sizeof(v)) < 0) {
		ret = -errno;
		pr_err("%s: setsockopt SO_PEEK_OFF %d: %s", what, v, errstr(ret));
	}
	return ret;
}

static int set_flags(int fd, const FileEntry *fe, const char *what)
{
	int ret;

	if (fcntl(fd, F_SETFL, fe->flags & (O_NONBLOCK | O_ASYNC)) < 0) {
		ret = -errno;
		pr_err("%s: fcntl(F_SETFL, 0%o): %s", what, fe->flags, errstr(ret));
		return ret;
	}
	return 0;
}

/* The socket file of a name unlinked at dump: unlinked again once nothing
 * of the restore needs to reach the socket by its path. */
static int unlink_name(const FileEntry *fe, const char *what)
{
	const UnixSkEntry *se = fe->unix_sk;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1] = { 0 };
	int ret;

	if (!se->has_name_unlinked || !se->name_unlinked || !se->has_name || !se->name.len ||
	    !se->name.data[0])
		return 0;
	memcpy(path, se->name.data, se->name.len < sizeof(path) - 1 ? se->name.len : sizeof(path) - 1);
	if (unlink(path) < 0) {
		ret = -errno;
		pr_err("%s: unlink the socket file %s (unlinked at dump): %s", what, path,
		       errstr(ret));
		return ret;
	}
	return 0;
}

/* keep_name: the caller still connects or sends to the name, and calls
 * unlink_name() itself after. */
static int do_bind(int fd, const FileEntry *fe, const char *what, bool keep_name)
{
	const UnixSkEntry *se = fe->unix_sk;
	struct sockaddr_un a;
	socklen_t len = make_addr(se, &a);
	struct stat st;
	int ret;

	/* A path bound at dump time is still there (the dumped socket made
	 * it): it is this tree's stale file, not someone else's. Unless its
	 * file was unlinked at dump: a file there now is someone else's. */
	if (a.sun_path[0]) {
		char path[sizeof(a.sun_path) + 1] = { 0 };

		memcpy(path, a.sun_path, se->name.len);
		if (se->has_name_unlinked && se->name_unlinked && !lstat(path, &st)) {
			pr_err("%s: its socket file %s was unlinked at dump, and a file is at that "
			       "path now: binding the name would need removing it", what, path);
			return -EEXIST;
		}
		if (!lstat(path, &st)) {
			if (!S_ISSOCK(st.st_mode)) {
				pr_err("%s: %s exists and is not a socket", what, path);
				return -EEXIST;
			}
			if (unlink(path) < 0) {
				ret = -errno;
				pr_err("%s: unlink stale socket file %s: %s", what, path, errstr(ret));
				return ret;
			}
		}
	}
	if (bind(fd, (struct sockaddr *)&a, len) < 0) {
		ret = -errno;
		pr_err("%s: bind to %s%.*s: %s", what, a.sun_path[0] ? "" : "@",
		       (int)se->name.len - !a.sun_path[0], a.sun_path + !a.sun_path[0], errstr(ret));
		return ret;
	}
	return keep_name ? 0 : unlink_name(fe, what);
}

/* Send what fe's socket had queued, from 'from' (its peer end) or to
 * fe's name when to_name. */
static int send_queue(int from, const FileEntry *fe, bool to_name, const char *what)
{
	const UnixSkEntry *se = fe->unix_sk;
	struct sockaddr_un a;
	socklen_t alen = to_name ? make_addr(se, &a) : 0;
	int ret;

	for (size_t i = 0; i < se->n_queue; i++) {
		const ProtobufCBinaryData *m = &se->queue[i];
		size_t done = 0;

		do {
			ssize_t n = sendto(from, m->data + done, m->len - done,
					   MSG_DONTWAIT | MSG_NOSIGNAL,
					   to_name ? (struct sockaddr *)&a : NULL, alen);

			if (n < 0) {
				ret = -errno;
				pr_err("%s: sending queued message %zu (%zu bytes) again: %s",
				       what, i + 1, m->len, errstr(ret));
				return ret;
			}
			done += n;
		} while (done < m->len && se->type == SOCK_STREAM);
	}
	return 0;
}

static int do_shutdown(int fd, uint32_t bits, const char *what)
{
	int how, ret;

	if (!(bits & (RCV_SHUTDOWN | SEND_SHUTDOWN)))
		return 0;
	how = (bits & RCV_SHUTDOWN) && (bits & SEND_SHUTDOWN) ? SHUT_RDWR :
	      bits & RCV_SHUTDOWN ? SHUT_RD : SHUT_WR;
	if (shutdown(fd, how) < 0) {
		ret = -errno;
		pr_err("%s: shutdown(%d): %s", what, how, errstr(ret));
		return ret;
	}
	return 0;
}

static const FileEntry *unix_entry(struct files_rst *r, uint32_t id, const char *what)
{
	const FileEntry *fe = files_rst_entry(r, id);

	if (!fe || fe->kind != FD_KIND__FD_UNIX_SK || !fe->unix_sk) {
		pr_err("%s: file %u is not a unix socket in the image", what, id);
		return NULL;
	}
	return fe;
}

/* A connected pair (peer may be NULL: the peer was closed). */
static int open_pair(struct files_rst *r, const FileEntry *fe, const FileEntry *peer,
		     const char *what)
{
	int sv[2] = { -1, -1 }, ret;

	if (socketpair(AF_UNIX, fe->unix_sk->type | SOCK_CLOEXEC, 0, sv) < 0) {
		ret = -errno;
		pr_err("%s: socketpair: %s", what, errstr(ret));
		return ret;
	}
	if (fe->unix_sk->accepted || (peer && peer->unix_sk->accepted))
		pr_warn("%s: an accept()ed socket whose listener is gone is restored unnamed "
			"(getsockname() will not return the listener's name)", what);
	ret = set_opts(sv[0], fe, what);
	if (!ret && peer)
		ret = set_opts(sv[1], peer, what);
	/* Names bound before connect(): a connected socket can still be
	 * bound. An accepted socket's name is its listener's. */
	if (!ret && fe->unix_sk->has_name && !fe->unix_sk->accepted)
		ret = do_bind(sv[0], fe, what, false);
	if (!ret && peer && peer->unix_sk->has_name && !peer->unix_sk->accepted)
		ret = do_bind(sv[1], peer, what, false);
	if (!ret)
		ret = send_queue(sv[1], fe, false, what);
	if (!ret && peer)
		ret = send_queue(sv[0], peer, false, what);
	if (!ret)
		ret = do_shutdown(sv[0], fe->unix_sk->shutdown, what);
	if (!ret && peer)
		ret = do_shutdown(sv[1], peer->unix_sk->shutdown, what);
	if (ret)
		goto fail;
	if (peer) {
		ret = set_flags(sv[1], peer, what);
		if (!ret)
			ret = files_rst_stash(r, peer->id, sv[1]);
		sv[1] = -1;
		if (ret)
			goto fail;
	} else {
		close(sv[1]);   /* the peer was closed: so is this one's */
	}
	return sv[0];
fail:
	close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	return ret;
}

/* fd for file fe: kept for the caller if it is keep_id, else handed to
 * the registry with its status flags. Takes fd. */
static int place(struct files_rst *r, const FileEntry *fe, int fd, uint32_t keep_id, int *kept,
		 const char *what)
{
	int ret;

	if (fe->id == keep_id) {
		*kept = fd;
		return 0;
	}
	ret = set_flags(fd, fe, what);
	if (ret) {
		close(fd);
		return ret;
	}
	return files_rst_stash(r, fe->id, fd);
}

/* An accepted connection of the listener lfd (at address a): a client
 * connects, lfd accepts, so the accepted end has the listener's name. The
 * client is the accepted socket's peer, or a temporary one closed at once
 * if the peer was closed. */
static int remake_accepted(struct files_rst *r, int lfd, const struct sockaddr_un *a,
			   socklen_t alen, uint32_t sid, uint32_t keep_id, int *kept,
			   const char *what)
{
	const FileEntry *sfe = files_rst_entry(r, sid), *cfe = NULL;
	int cfd = -1, sfd = -1, ret;

	if (sfe && sfe->kind == FD_KIND__FD_EXTERNAL)
		return 0;       /* handed in with --inherit-fd */
	sfe = unix_entry(r, sid, what);
	if (!sfe)
		return -EINVAL;
	if (sfe->unix_sk->has_peer_file_id) {
		cfe = unix_entry(r, sfe->unix_sk->peer_file_id, what);
		if (!cfe)
			return -EINVAL;
	}
	cfd = socket(AF_UNIX, sfe->unix_sk->type | SOCK_CLOEXEC, 0);
	if (cfd < 0) {
		ret = -errno;
		pr_err("%s: socket for accepted connection (file %u): %s", what, sid, errstr(ret));
		return ret;
	}
	ret = cfe ? set_opts(cfd, cfe, what) : 0;
	if (!ret && cfe && cfe->unix_sk->has_name && !cfe->unix_sk->accepted)
		ret = do_bind(cfd, cfe, what, false);
	if (!ret && connect(cfd, (const struct sockaddr *)a, alen) < 0) {
		ret = -errno;
		pr_err("%s: connect for accepted connection (file %u): %s", what, sid, errstr(ret));
	}
	if (ret)
		goto fail;
	sfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (sfd < 0) {
		ret = -errno;
		pr_err("%s: accept of connection (file %u): %s", what, sid, errstr(ret));
		goto fail;
	}
	ret = set_opts(sfd, sfe, what);
	if (!ret)
		ret = send_queue(cfd, sfe, false, what);
	if (!ret && cfe)
		ret = send_queue(sfd, cfe, false, what);
	if (!ret)
		ret = do_shutdown(sfd, sfe->unix_sk->shutdown, what);
	if (!ret && cfe)
		ret = do_shutdown(cfd, cfe->unix_sk->shutdown, what);
	if (ret)
		goto fail;
	if (cfe) {
		ret = place(r, cfe, cfd, keep_id, kept, what);
		cfd = -1;
		if (ret)
			goto fail;
	} else {
		close(cfd);
		cfd = -1;
	}
	return place(r, sfe, sfd, keep_id, kept, what);
fail:
	if (cfd >= 0)
		close(cfd);
	if (sfd >= 0)
		close(sfd);
	return ret;
}

/* The listener lfe, bound and listening, with its pending connections
 * made again in order (their clients stashed in the registry, except
 * keep_id's, returned in *kept). Returns the listener's fd when keep_id is
 * 0, else stashes it. */
static int open_listener(struct files_rst *r, const FileEntry *lfe, uint32_t keep_id, int *kept)
{
	const UnixSkEntry *se = lfe->unix_sk;
	struct sockaddr_un a;
	socklen_t alen;
	char what[64];
	int lfd, ret;

	snprintf(what, sizeof(what), "file %u (unix listener)", lfe->id);
	if (!se->has_name) {
		pr_err("%s: no name in the image", what);
		return -EINVAL;
	}
	alen = make_addr(se, &a);
	lfd = new_socket(lfe, what);
	if (lfd < 0)
		return lfd;
	ret = set_opts(lfd, lfe, what);
	if (!ret)
		ret = do_bind(lfd, lfe, what, true);
	if (ret)
		goto fail;
	if (listen(lfd, se->backlog) < 0) {
		ret = -errno;
		pr_err("%s: listen(%u): %s", what, se->backlog, errstr(ret));
		goto fail;
	}
	for (size_t i = 0; i < se->n_accepted_file_ids; i++) {
		ret = remake_accepted(r, lfd, &a, alen, se->accepted_file_ids[i], keep_id, kept,
				      what);
		if (ret)
			goto fail;
	}
	for (size_t i = 0; i < se->n_pending_file_ids; i++) {
		const FileEntry *cfe = unix_entry(r, se->pending_file_ids[i], what);
		int cfd;

		if (!cfe) {
			ret = -EINVAL;
			goto fail;
		}
		cfd = new_socket(cfe, what);
		if (cfd < 0) {
			ret = cfd;
			goto fail;
		}
		ret = set_opts(cfd, cfe, what);
		if (!ret && connect(cfd, (struct sockaddr *)&a, alen) < 0) {
			ret = -errno;
			pr_err("%s: pending connection %zu (file %u): connect: %s", what, i + 1,
			       cfe->id, errstr(ret));
		}
		if (!ret)
			ret = set_flags(cfd, cfe, what);
		if (ret) {
			close(cfd);
			goto fail;
		}
		if (cfe->id == keep_id) {
			*kept = cfd;
			continue;
		}
		ret = files_rst_stash(r, cfe->id, cfd);
		if (ret)
			goto fail;
	}
	ret = unlink_name(lfe, what);
	if (ret)
		goto fail;
	if (!keep_id)
		return lfd;
	ret = set_flags(lfd, lfe, what);
	if (!ret)
		ret = files_rst_stash(r, lfe->id, lfd);
	return ret;
fail:
	close(lfd);
	return ret;
}

/* Unconnected (maybe bound) socket fe, with its queued datagrams sent
 * again to its name, from 'from' or else a temporary unnamed socket. */
static int open_single(const FileEntry *fe, int from, const char *what)
{
	const UnixSkEntry *se = fe->unix_sk;
	int fd, ret;

	fd = new_socket(fe, what);
	if (fd < 0)
		return fd;
	ret = set_opts(fd, fe, what);
	if (!ret && se->has_name)
		ret = do_bind(fd, fe, what, true);
	if (!ret && se->n_queue && from >= 0) {
		ret = send_queue(from, fe, true, what);
	} else if (!ret && se->n_queue) {
		int tmp = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		if (tmp < 0) {
			ret = -errno;
			pr_err("%s: socket for the queued datagrams: %s", what, errstr(ret));
		} else {
			ret = send_queue(tmp, fe, true, what);
			close(tmp);
		}
	}
	if (!ret && se->has_name)
		ret = unlink_name(fe, what);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

/* Datagram sockets being made by open_dgram_oneway(): a ring of sockets
 * each connected to the next would recurse forever. */
static uint32_t dgram_busy[64];
static size_t nr_dgram_busy;

/* A datagram socket connected to a named one (peer) that is not
 * connected back: peer is made first (the registry opens it), then this
 * socket connects to its name. */
static int open_dgram_oneway(struct files_rst *r, const FileEntry *fe, const FileEntry *peer,
			     const char *what)
{
	struct sockaddr_un a;
	socklen_t alen;
	int fd, pfd, ret;

	if (!peer->unix_sk->has_name) {
		pr_err("%s: connected to file %u, which has no name", what, peer->id);
		return -EINVAL;
	}
	for (size_t i = 0; i < nr_dgram_busy; i++) {
		if (dgram_busy[i] == fe->id) {
			pr_err("%s: a ring of datagram sockets each connected to the next",
			       what);
			return -ELOOP;
		}
	}
	if (nr_dgram_busy == ARRAY_SIZE(dgram_busy)) {
		pr_err("%s: chain of connected datagram sockets too long", what);
		return -ELOOP;
	}
	dgram_busy[nr_dgram_busy++] = fe->id;
	pfd = files_rst_open_id(r, peer->id);
	nr_dgram_busy--;
	if (pfd < 0)
		return pfd;
	/* What it had queued can only have come from peer (a connected
	 * datagram socket takes no other sender): sent from there, before
	 * the connect. */
	fd = open_single(fe, pfd, what);
	if (fd < 0)
		return fd;
	alen = make_addr(peer->unix_sk, &a);
	if (connect(fd, (struct sockaddr *)&a, alen) < 0) {
		ret = -errno;
		pr_err("%s: connect to file %u: %s", what, peer->id, errstr(ret));
		close(fd);
		return ret;
	}
	ret = do_shutdown(fd, fe->unix_sk->shutdown, what);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

static int unix_open(struct files_rst *r, const FileEntry *fe)
{
	const UnixSkEntry *se = fe->unix_sk;
	char what[64];
	int fd, ret;

	snprintf(what, sizeof(what), "file %u (unix socket)", fe->id);
	if (!se) {
		pr_err("%s: no unix socket part in the image", what);
		return -EINVAL;
	}
	if (se->state == TCP_LISTEN)
		return open_listener(r, fe, 0, NULL);
	if (se->has_listener_file_id || se->has_conn_listener_file_id) {
		const FileEntry *lfe = unix_entry(r, se->has_listener_file_id ? se->listener_file_id :
						   se->conn_listener_file_id, what);
		int kept = -1;

		if (!lfe)
			return -EINVAL;
		ret = open_listener(r, lfe, fe->id, &kept);
		if (ret)
			return ret;
		if (kept < 0) {
			pr_err("%s: not among the connections of listener file %u", what, lfe->id);
			return -EINVAL;
		}
		return kept;
	}
	if (se->has_peer_file_id) {
		const FileEntry *peer = unix_entry(r, se->peer_file_id, what);

		if (!peer)
			return -EINVAL;
		if (se->type == SOCK_DGRAM && peer->unix_sk->peer_ino != se->ino)
			return open_dgram_oneway(r, fe, peer, what);
		return open_pair(r, fe, peer, what);
	}
	if (se->state == TCP_ESTABLISHED && se->type != SOCK_DGRAM)
		return open_pair(r, fe, NULL, what);
	/* Unconnected, maybe bound. */
	fd = open_single(fe, -1, what);
	if (fd < 0)
		return fd;
	ret = do_shutdown(fd, se->shutdown, what);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

const struct file_ops files_unix_ops = {
	.kind = FD_KIND__FD_UNIX_SK,
	.name = "unix socket",
	.match = unix_match,
	.dump = unix_dump,
	.open = unix_open,
};
