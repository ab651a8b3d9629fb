#include "files_inet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netinet/tcp.h>

#include "log.h"
#include "sk-inet.pb-c.h"
#include "sk_inet_diag.h"
#include "sockopts.h"
#include "util.h"

#ifndef SO_BINDTOIFINDEX
#define SO_BINDTOIFINDEX 62
#endif

/* Every TCP/UDP socket of the namespace, read once, after the tree is
 * frozen (match() runs then), and kept for the dump's lifetime: a dump is
 * one run of minicr. */
static struct inet_diag_table diag;
static int diag_state;       /* 0 not read, 1 read, -errno failed */

static const struct inet_diag_table *diag_table(void)
{
	if (!diag_state) {
		int ret = sk_inet_diag_collect(&diag);   /* logs */

		diag_state = ret ? ret : 1;
	}
	return diag_state == 1 ? &diag : NULL;
}

static int sockopt_int(int fd, int level, int name, int *v)
{
	socklen_t len = sizeof(*v);

	return getsockopt(fd, level, name, v, &len) < 0 ? -errno : 0;
}

static bool inet_match(const struct fd_dump_info *fi)
{
	const struct inet_diag_table *t;
	int dom;

	if (!S_ISSOCK(fi->st.st_mode) || strncmp(fi->link, "socket:", 7))
		return false;
	t = diag_table();
	if (t && sk_inet_diag_find(t, fi->st.st_ino))
		return true;
	/* Not in any table: an unbound socket, or not TCP/UDP at all. */
	dom = files_sock_domain(fi);
	return dom == AF_INET || dom == AF_INET6;
}

/* inet_diag lists every bound socket of minicr's network namespace; one it
 * does not list must be unbound, or it lives in another namespace, where
 * minicr cannot bind it again. */
static int check_unlisted(const struct fd_dump_info *fi, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	uint16_t port = 0;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		int ret = -errno;

		pr_err("task %d: fd %d (%s): getsockname: %s", fi->pid, fi->fd, fi->link,
		       errstr(ret));
		return ret;
	}
	if (ss.ss_family == AF_INET)
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	else if (ss.ss_family == AF_INET6)
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	len = sizeof(ss);
	if (port || getpeername(fd, (struct sockaddr *)&ss, &len) == 0) {
		pr_err("task %d: fd %d (%s) is a bound or connected socket that minicr's network "
		       "namespace does not list: a socket of another network namespace cannot be "
		       "dumped", fi->pid, fi->fd, fi->link);
		return -EOPNOTSUPP;
	}
	return 0;
}

static int put_bytes(ProtobufCBinaryData *b, const uint8_t *p, size_t len)
{
	b->data = malloc(len);
	if (!b->data)
		return -ENOMEM;
	memcpy(b->data, p, len);
	b->len = len;
	return 0;
}

static int inet_dump(struct files_dump *d, const struct fd_dump_info *fi, FileEntry *fe)
{
	static const uint8_t zero[16];
	const struct inet_diag_table *t = diag_table();
	const struct inet_diag_info *ii = t ? sk_inet_diag_find(t, fi->st.st_ino) : NULL;
	int fd, dom, type, proto, v, ret;
	char src[80], dst[80], what[128];
	InetSkEntry *e;
	size_t alen;

	if (!t)
		return diag_state;
	fd = files_dump_local_fd(d, fi);     /* logs; not ours to close */
	if (fd < 0)
		return fd;
	if ((ret = sockopt_int(fd, SOL_SOCKET, SO_DOMAIN, &dom)) ||
	    (ret = sockopt_int(fd, SOL_SOCKET, SO_TYPE, &type)) ||
	    (ret = sockopt_int(fd, SOL_SOCKET, SO_PROTOCOL, &proto))) {
		pr_err("task %d: fd %d (%s): getsockopt: %s", fi->pid, fi->fd, fi->link,
		       errstr(ret));
		return ret;
	}
	if (!((type == SOCK_STREAM && proto == IPPROTO_TCP) ||
	      (type == SOCK_DGRAM && proto == IPPROTO_UDP))) {
		pr_err("task %d: fd %d (%s) is an %s socket of type %d, protocol %d; minicr "
		       "dumps only TCP and UDP sockets", fi->pid, fi->fd, fi->link,
		       dom == AF_INET6 ? "IPv6" : "IPv4", type, proto);
		return -EOPNOTSUPP;
	}
	alen = dom == AF_INET6 ? 16 : 4;
	if (!ii) {
		ret = check_unlisted(fi, fd);
		if (ret)
			return ret;
	} else {
		sk_inet_diag_addr_str(ii->family, ii->src, ii->sport, src, sizeof(src));
		sk_inet_diag_addr_str(ii->family, ii->dst, ii->dport, dst, sizeof(dst));
	}
	if (ii && proto == IPPROTO_TCP && ii->state != TCP_LISTEN && ii->state != TCP_CLOSE &&
	    ii->state != SK_INET_BOUND_INACTIVE) {
		pr_err("task %d: fd %d (%s) is a TCP connection %s -> %s (%s): established TCP "
		       "connections are not supported yet", fi->pid, fi->fd, fi->link, src, dst,
		       sk_inet_state_name(ii->state));
		return -EOPNOTSUPP;
	}
	if (ii && proto == IPPROTO_TCP && ii->state == TCP_LISTEN && ii->rqueue) {
		pr_err("task %d: fd %d (%s) listens on %s with %u connection(s) waiting to be "
		       "accepted: minicr cannot restore pending connections; dump when the "
		       "accept queue is empty", fi->pid, fi->fd, fi->link, src, ii->rqueue);
		return -EOPNOTSUPP;
	}
	if (ii && ii->md5) {
		pr_err("task %d: fd %d (%s): TCP socket on %s has TCP_MD5SIG keys; minicr cannot "
		       "read them back to restore them", fi->pid, fi->fd, fi->link, src);
		return -EOPNOTSUPP;
	}
	/* Reading them would consume them (MSG_PEEK sees only the first),
	 * and resending could not give them their senders' addresses. */
	if (ii && proto == IPPROTO_UDP && ii->rqueue) {
		pr_err("task %d: fd %d (%s): UDP socket on %s has %u bytes of datagrams queued; "
		       "minicr cannot restore them; dump when they are read", fi->pid, fi->fd,
		       fi->link, src, ii->rqueue);
		return -EOPNOTSUPP;
	}

	e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	inet_sk_entry__init(e);
	fe->inet = e;        /* freed with fe from here on */
	e->family = dom;
	e->type = type;
	e->protocol = proto;
	e->state = ii ? ii->state : TCP_CLOSE;
	if (e->state == SK_INET_BOUND_INACTIVE)
		e->state = TCP_CLOSE;
	ret = put_bytes(&e->src_addr, ii ? ii->src : zero, alen);
	if (ret)
		return ret;
	e->src_port = ii ? ii->sport : 0;
	if (ii && proto == IPPROTO_UDP && ii->state == TCP_ESTABLISHED) {
		e->has_dst_addr = e->has_dst_port = 1;
		ret = put_bytes(&e->dst_addr, ii->dst, alen);
		if (ret)
			return ret;
		e->dst_port = ii->dport;
	}
	if (e->state == TCP_LISTEN) {
		e->has_backlog = 1;
		e->backlog = ii->wqueue;
	}
	if (ii && ii->ifindex) {
		e->has_ifindex = 1;
		e->ifindex = ii->ifindex;
	}
	if ((ret = sockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, &v)))
		goto sockopt_err;
	e->has_reuseaddr = 1;
	e->reuseaddr = !!v;
	if ((ret = sockopt_int(fd, SOL_SOCKET, SO_REUSEPORT, &v)))
		goto sockopt_err;
	e->has_reuseport = 1;
	e->reuseport = !!v;
	if (dom == AF_INET6) {
		if ((ret = sockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v)))
			goto sockopt_err;
		e->has_v6only = 1;
		e->v6only = !!v;
	}
	snprintf(what, sizeof(what), "task %d: fd %d (%s)", fi->pid, fi->fd, fi->link);
	return sockopts_dump(fd, dom, type, proto, what, &e->opts);     /* logs */
sockopt_err:
	pr_err("task %d: fd %d (%s): getsockopt: %s", fi->pid, fi->fd, fi->link, errstr(ret));
	return ret;
}

static int set_int(int fd, int level, int name, int v)
{
	return setsockopt(fd, level, name, &v, sizeof(v)) < 0 ? -errno : 0;
}

static int sk_addr(const InetSkEntry *e, const ProtobufCBinaryData *a, uint32_t port,
		     struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (e->family == AF_INET && a->len == 4) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;

		s->sin_family = AF_INET;
		s->sin_port = htons(port);
		memcpy(&s->sin_addr, a->data, 4);
		*len = sizeof(*s);
		return 0;
	}
	if (e->family == AF_INET6 && a->len == 16) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons(port);
		memcpy(&s->sin6_addr, a->data, 16);
		if (IN6_IS_ADDR_LINKLOCAL(&s->sin6_addr) && e->has_ifindex)
			s->sin6_scope_id = e->ifindex;
		*len = sizeof(*s);
		return 0;
	}
	return -EINVAL;
}

static int inet_open(struct files_rst *r, const FileEntry *fe)
{
	const InetSkEntry *e = fe->inet;
	_cleanup_close_ int fd = -1;
	struct sockaddr_storage ss;
	char src[80], dst[80], what[128];
	const char *step;
	socklen_t len;
	int ret;

	(void)r;
	if (!e || (e->family != AF_INET && e->family != AF_INET6) ||
	    (e->state != TCP_CLOSE && e->state != TCP_LISTEN &&
	     !(e->protocol == IPPROTO_UDP && e->state == TCP_ESTABLISHED))) {
		pr_err("file %u: inet socket entry missing or with an unknown family or state",
		       fe->id);
		return -EINVAL;
	}
	ret = sk_addr(e, &e->src_addr, e->src_port, &ss, &len);
	if (ret) {
		pr_err("file %u: inet socket with a %zu-byte address for family %u", fe->id,
		       e->src_addr.len, e->family);
		return ret;
	}
	sk_inet_diag_addr_str(e->family, e->src_addr.data, e->src_port, src, sizeof(src));
	snprintf(what, sizeof(what), "file %u (socket %s)", fe->id, src);
	fd = socket(e->family, e->type | SOCK_CLOEXEC, e->protocol);
	if (fd < 0) {
		ret = -errno;
		step = "socket()";
		goto err;
	}
	ret = sockopts_restore(fd, e->family, e->type, e->protocol, e->opts, what);
	if (ret)
		return ret;     /* logged, naming the option */
	step = "setsockopt(SO_REUSEADDR)";
	if (e->reuseaddr && (ret = set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1)))
		goto err;
	step = "setsockopt(SO_REUSEPORT)";
	if (e->reuseport && (ret = set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1)))
		goto err;
	/* Set either way: the default comes from a sysctl that may differ. */
	step = "setsockopt(IPV6_V6ONLY)";
	if (e->family == AF_INET6 && e->has_v6only &&
	    (ret = set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, e->v6only)))
		goto err;
	step = "setsockopt(SO_BINDTOIFINDEX)";
	/* A device recorded by name wins: the index may differ on another host. */
	if (e->has_ifindex && e->ifindex && !(e->opts && e->opts->bind_device) &&
	    (ret = set_int(fd, SOL_SOCKET, SO_BINDTOIFINDEX, e->ifindex)))
		goto err;
	if (e->src_port) {
		step = "bind()";
		if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
			ret = -errno;
			goto err;
		}
	}
	if (e->state == TCP_LISTEN) {
		step = "listen()";
		if (listen(fd, e->has_backlog ? (int)e->backlog : SOMAXCONN) < 0) {
			ret = -errno;
			goto err;
		}
	}
	if (e->has_dst_port && e->has_dst_addr) {
		ret = sk_addr(e, &e->dst_addr, e->dst_port, &ss, &len);
		if (ret) {
			pr_err("file %u: UDP socket with a malformed peer address", fe->id);
			return ret;
		}
		sk_inet_diag_addr_str(e->family, e->dst_addr.data, e->dst_port, dst, sizeof(dst));
		step = "connect()";
		if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
			ret = -errno;
			pr_err("file %u: UDP socket %s: connect() to %s: %s", fe->id, src, dst,
			       errstr(ret));
			return ret;
		}
	}
	ret = fd;
	fd = -1;
	return ret;
err:
	/* bind() accepts a port with connections in TIME_WAIT only if they
	 * and the new socket both have SO_REUSEADDR. */
	pr_err("file %u: %s socket %s%s: %s: %s%s", fe->id,
	       e->protocol == IPPROTO_TCP ? "TCP" : "UDP", src,
	       e->state == TCP_LISTEN ? " (listening)" : "", step, errstr(ret),
	       ret == -EADDRINUSE && e->protocol == IPPROTO_TCP && !e->reuseaddr ?
	       " (the socket had no SO_REUSEADDR: connections it closed may hold the port in "
	       "TIME_WAIT for up to a minute after the dump; or another socket listens on it)" : "");
	return ret;
}

const struct file_ops files_inet_ops = {
	.kind = FD_KIND__FD_INET_SK,
	.name = "inet socket",
	.match = inet_match,
	.dump = inet_dump,
	.open = inet_open,
};
