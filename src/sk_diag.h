/* Socket queries through NETLINK_SOCK_DIAG, with libnl-3.
 *
 * sk_diag_dump() is the generic part: send one SOCK_DIAG_BY_FAMILY dump
 * request (a struct unix_diag_req, inet_diag_req_v2, ...) on a fresh
 * netlink socket and hand every answer message to a callback. It sees the
 * sockets of minicr's network namespace.
 *
 * The unix part dumps every AF_UNIX socket of the namespace with its name,
 * peer, queue lengths, pending connections (listeners), bound inode and
 * shutdown state into a table looked up by socket inode.
 * sk_diag_unix_parse() decodes one answer message and is pure (unit-tested
 * on crafted messages). */
#ifndef MINICR_SK_DIAG_H
#define MINICR_SK_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

/* Called for each answer; a non-zero (-errno) return stops the dump and is
 * what sk_diag_dump() returns. */
typedef int (*sk_diag_cb)(struct nlmsghdr *nlh, void *arg);

/* what names the query in messages ("unix sockets"). */
int sk_diag_dump(const char *what, const void *req, size_t req_len, sk_diag_cb cb, void *arg);

#define SK_UNIX_NAME_MAX 108    /* sizeof(sun_path) */

struct unix_diag_info {
	uint32_t ino;
	uint8_t type;               /* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET */
	uint8_t state;              /* TCP_ESTABLISHED, TCP_LISTEN, TCP_CLOSE */
	/* sun_path bytes as bound: an abstract name starts with '\0'. */
	size_t name_len;            /* 0: unnamed */
	char name[SK_UNIX_NAME_MAX];
	uint32_t peer;              /* peer socket inode, 0 if none */
	bool has_rqlen;
	/* Listener: pending connections and backlog; else bytes queued for
	 * reading (rqueue) and sent but not yet read by the peer (wqueue). */
	uint32_t rqueue, wqueue;
	uint32_t *icons;            /* listener: inodes of pending connections */
	size_t nr_icons;
	bool has_vfs;               /* bound to a path: the socket file */
	uint32_t vfs_dev, vfs_ino;
	bool has_shutdown;
	uint8_t shutdown;           /* RCV_SHUTDOWN 1 | SEND_SHUTDOWN 2 */
};

/* Decode one unix_diag answer; -EINVAL (with *why set) on a malformed one.
 * ui->icons is allocated (free with sk_diag_unix_info_free). */
int sk_diag_unix_parse(struct nlmsghdr *nlh, struct unix_diag_info *ui, const char **why);
void sk_diag_unix_info_free(struct unix_diag_info *ui);

struct unix_diag_table {
	struct unix_diag_info *e;   /* sorted by ino */
	size_t nr, cap;
};

/* Dump every unix socket of minicr's network namespace. */
int sk_diag_unix_collect(struct unix_diag_table *t);
/* Sort t for lookups (sk_diag_unix_collect does it). */
void sk_diag_unix_sort(struct unix_diag_table *t);
const struct unix_diag_info *sk_diag_unix_find(const struct unix_diag_table *t, uint32_t ino);
void sk_diag_unix_free(struct unix_diag_table *t);

#endif
