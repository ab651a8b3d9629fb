/* Netlink sockets (FD_NETLINK_SK), see proto/sk-netlink.proto.
 *
 * Dump: protocol, type, port id, groups, destination, queue and flags from
 * one netlink_diag query (NETLINK_SOCK_DIAG) of minicr's network namespace
 * per socket, SOL_SOCKET options by src/sockopts.h. Refused, naming task
 * and fd: messages queued for reading (an answer or an event the task has
 * not read: minicr cannot put it back), a dump in progress on the socket
 * (its continuation lives in the kernel), a socket the namespace does not
 * list (another network namespace).
 *
 * Restore (in minicr): socket(), the options, the NETLINK_* flags, bind()
 * to the recorded port id (an autobound socket had one too: the same port
 * id, free since the old socket is gone) with the first 32 groups, the
 * groups above 32 by NETLINK_ADD_MEMBERSHIP, then connect() to the
 * recorded destination. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/netlink_diag.h>
#include <linux/sock_diag.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "files.h"
#include "log.h"
#include "sk_diag.h"
#include "sockopts.h"
#include "util.h"

/* Newer than Debian 12's headers (uapi/linux/netlink_diag.h). */
#ifndef NDIAG_FLAG_EXT_ACK
#define NDIAG_FLAG_EXT_ACK    0x00000040
#endif
#ifndef NDIAG_FLAG_STRICT_CHK
#define NDIAG_FLAG_STRICT_CHK 0x00000080
#endif

/* NDIAG_FLAG_* bits that are socket options, and the option of each. */
static const struct {
	uint32_t flag;
	int opt;
	const char *name;
} nl_flags[] = {
	{ NDIAG_FLAG_PKTINFO, NETLINK_PKTINFO, "NETLINK_PKTINFO" },
	{ NDIAG_FLAG_BROADCAST_ERROR, NETLINK_BROADCAST_ERROR, "NETLINK_BROADCAST_ERROR" },
	{ NDIAG_FLAG_NO_ENOBUFS, NETLINK_NO_ENOBUFS, "NETLINK_NO_ENOBUFS" },
	{ NDIAG_FLAG_LISTEN_ALL_NSID, NETLINK_LISTEN_ALL_NSID, "NETLINK_LISTEN_ALL_NSID" },
	{ NDIAG_FLAG_CAP_ACK, NETLINK_CAP_ACK, "NETLINK_CAP_ACK" },
	{ NDIAG_FLAG_EXT_ACK, NETLINK_EXT_ACK, "NETLINK_EXT_ACK" },
	{ NDIAG_FLAG_STRICT_CHK, NETLINK_GET_STRICT_CHK, "NETLINK_GET_STRICT_CHK" },
};

struct nl_info {
	uint32_t ino;
	bool found;
	struct netlink_diag_msg msg;
	uint32_t groups[32];        /* 1024 groups */
	size_t nr_groups;
	uint32_t rmem, flags;
};

static int diag_cb(struct nlmsghdr *nlh, void *arg)
{
	struct nl_info *in = arg;
	struct netlink_diag_msg *m = nlmsg_data(nlh);
	struct nlattr *tb[NETLINK_DIAG_MAX + 1];

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)) || m->ndiag_ino != in->ino || in->found)
		return 0;
	if (nlmsg_parse(nlh, sizeof(*m), tb, NETLINK_DIAG_MAX, NULL) < 0)
		return -EBADMSG;
	in->found = true;
	in->msg = *m;
	if (tb[NETLINK_DIAG_GROUPS]) {
		size_t len = nla_len(tb[NETLINK_DIAG_GROUPS]);

		if (len > sizeof(in->groups))
			len = sizeof(in->groups);
		memcpy(in->groups, nla_data(tb[NETLINK_DIAG_GROUPS]), len);
		in->nr_groups = len / sizeof(uint32_t);
	}
	if (tb[NETLINK_DIAG_MEMINFO] &&
	    nla_len(tb[NETLINK_DIAG_MEMINFO]) >= (int)sizeof(uint32_t) * (SK_MEMINFO_RMEM_ALLOC + 1))
		in->rmem = ((uint32_t *)nla_data(tb[NETLINK_DIAG_MEMINFO]))[SK_MEMINFO_RMEM_ALLOC];
	if (tb[NETLINK_DIAG_FLAGS])
		in->flags = nla_get_u32(tb[NETLINK_DIAG_FLAGS]);
	return 0;
}

static int nl_diag(uint32_t ino, struct nl_info *in)
{
	struct netlink_diag_req req = {
		.sdiag_family = AF_NETLINK,
		.sdiag_protocol = NDIAG_PROTO_ALL,
		.ndiag_show = NDIAG_SHOW_GROUPS | NDIAG_SHOW_MEMINFO | NDIAG_SHOW_FLAGS,
	};

	memset(in, 0, sizeof(*in));
	in->ino = ino;
	return sk_diag_dump("netlink sockets", &req, sizeof(req), diag_cb, in);
}

/* ---- dump ---- */

static bool netlink_match(const struct fd_dump_info *fi)
{
	return files_sock_domain(fi) == AF_NETLINK;
}

/* What netlink_diag would say of an unbound socket: -EOPNOTSUPP if it is
 * bound after all. Its flags are read one by one. */
static int unbound_info(int fd, struct nl_info *in)
{
	struct sockaddr_nl sa;
	socklen_t len = sizeof(sa);
	int v, type, proto;

	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return -errno;
	if (sa.nl_pid)
		return -EOPNOTSUPP;
	len = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return -errno;
	len = sizeof(proto);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) < 0)
		return -errno;
	in->msg.ndiag_type = (uint8_t)type;
	in->msg.ndiag_protocol = (uint8_t)proto;
	for (size_t i = 0; i < ARRAY_SIZE(nl_flags); i++) {
		len = sizeof(v);
		if (!getsockopt(fd, SOL_NETLINK, nl_flags[i].opt, &v, &len) && v)
			in->flags |= nl_flags[i].flag;
	}
	return 0;
}

static int netlink_dump(struct files_dump *d, const struct fd_dump_info *fi, FileEntry *fe)
{
	NetlinkSkEntry *e;
	struct nl_info in;
	char what[96];
	int fd, ret;

	snprintf(what, sizeof(what), "task %d: fd %d (%s)", fi->pid, fi->fd, fi->link);
	fd = files_dump_local_fd(d, fi);
	if (fd < 0)
		return fd;
	ret = nl_diag(fi->st.st_ino, &in);
	if (ret)
		return ret;     /* logged by sk_diag_dump() */
	/* netlink_diag lists bound sockets only; one it does not list is
	 * unbound (port id 0: it can have received nothing), or it lives in
	 * another network namespace. */
	if (!in.found) {
		ret = unbound_info(fd, &in);
		if (ret == -EOPNOTSUPP)
			pr_err("%s: a bound netlink socket minicr's network namespace does not "
			       "list: one of another network namespace cannot be dumped", what);
		else if (ret)
			pr_err("%s: cannot read the unbound netlink socket: %s", what, errstr(ret));
		if (ret)
			return ret;
	}
	if (in.rmem) {
		pr_err("%s: netlink socket (protocol %u) with %u bytes of messages queued for "
		       "reading; minicr cannot put them back", what, in.msg.ndiag_protocol, in.rmem);
		return -EOPNOTSUPP;
	}
	if (in.flags & NDIAG_FLAG_CB_RUNNING) {
		pr_err("%s: netlink socket (protocol %u) in the middle of a dump; minicr cannot "
		       "dump it", what, in.msg.ndiag_protocol);
		return -EOPNOTSUPP;
	}
	e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	netlink_sk_entry__init(e);
	fe->netlink = e;
	e->protocol = in.msg.ndiag_protocol;
	e->type = in.msg.ndiag_type;
	if (in.msg.ndiag_portid) {
		e->has_portid = 1;
		e->portid = in.msg.ndiag_portid;
	}
	while (in.nr_groups && !in.groups[in.nr_groups - 1])
		in.nr_groups--;
	if (in.nr_groups) {
		e->groups = malloc(in.nr_groups * sizeof(uint32_t));
		if (!e->groups)
			return -ENOMEM;
		memcpy(e->groups, in.groups, in.nr_groups * sizeof(uint32_t));
		e->n_groups = in.nr_groups;
	}
	if (in.msg.ndiag_dst_portid || in.msg.ndiag_dst_group) {
		e->has_dst_portid = e->has_dst_group = 1;
		e->dst_portid = in.msg.ndiag_dst_portid;
		e->dst_group = in.msg.ndiag_dst_group;
	}
	e->flags = in.flags & ~NDIAG_FLAG_CB_RUNNING;
	e->has_flags = e->flags != 0;
	return sockopts_dump(fd, AF_NETLINK, (int)e->type, (int)e->protocol, what, &e->opts);
}

/* ---- restore ---- */

static int netlink_open(struct files_rst *r, const FileEntry *fe)
{
	const NetlinkSkEntry *e = fe->netlink;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char what[64];
	const char *step = "socket()";
	int fd, one = 1, ret;

	(void)r;
	if (!e) {
		pr_err("file %u: a netlink socket without its netlink part", fe->id);
		return -EINVAL;
	}
	snprintf(what, sizeof(what), "netlink socket %u (protocol %u)", fe->id, e->protocol);
	fd = socket(AF_NETLINK, (int)e->type | SOCK_CLOEXEC, (int)e->protocol);
	if (fd < 0)
		goto err;
	ret = sockopts_restore(fd, AF_NETLINK, (int)e->type, (int)e->protocol, e->opts, what);
	if (ret)
		goto fail;      /* logged */
	for (size_t i = 0; i < ARRAY_SIZE(nl_flags); i++) {
		step = nl_flags[i].name;
		if ((e->flags & nl_flags[i].flag) &&
		    setsockopt(fd, SOL_NETLINK, nl_flags[i].opt, &one, sizeof(one)) < 0)
			goto err;
	}
	if (e->has_portid) {
		step = "bind()";
		sa.nl_pid = e->portid;
		sa.nl_groups = e->n_groups ? e->groups[0] : 0;
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			goto err;
	}
	step = "NETLINK_ADD_MEMBERSHIP";
	for (size_t w = 1; w < e->n_groups; w++)
		for (unsigned b = 0; b < 32; b++) {
			int g = (int)(w * 32 + b + 1);

			if ((e->groups[w] & (1u << b)) &&
			    setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g, sizeof(g)) < 0)
				goto err;
		}
	if (e->has_dst_portid) {
		struct sockaddr_nl dst = { .nl_family = AF_NETLINK, .nl_pid = e->dst_portid,
					   .nl_groups = e->has_dst_group && e->dst_group ?
							1u << (e->dst_group - 1) : 0 };

		step = "connect()";
		if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0)
			goto err;
	}
	return fd;
err:
	ret = -errno;
	pr_err("%s: %s: %s%s", what, step, errstr(ret),
	       ret == -EADDRINUSE ? " (another socket holds the port id)" : "");
fail:
	if (fd >= 0)
		close(fd);
	return ret;
}

const struct file_ops files_netlink_ops = {
	.kind = FD_KIND__FD_NETLINK_SK,
	.name = "netlink socket",
	.match = netlink_match,
	.dump = netlink_dump,
	.open = netlink_open,
};
