#include "sk_diag.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "log.h"

/* ---- generic ---- */

struct dump_ctx {
	sk_diag_cb cb;
	void *arg;
	int ret;
};

static int valid_cb(struct nl_msg *msg, void *arg)
{
	struct dump_ctx *c = arg;

	c->ret = c->cb(nlmsg_hdr(msg), c->arg);
	return c->ret ? NL_STOP : NL_OK;
}

/* libnl reports its own error codes; the kernel's errno behind them is
 * not kept, so name the failure with libnl's text and map the few that
 * matter. */
static int nlerr_to_errno(int nlerr)
{
	switch (-nlerr) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_PERM:
		return -EPERM;
	case NLE_NOACCESS:
		return -EACCES;
	case NLE_OPNOTSUPP:
	case NLE_PROTO_MISMATCH:
		return -EOPNOTSUPP;
	default:
		return -EIO;
	}
}

int sk_diag_dump(const char *what, const void *req, size_t req_len, sk_diag_cb cb, void *arg)
{
	struct dump_ctx c = { .cb = cb, .arg = arg };
	struct nl_sock *sk;
	int err, ret;

	sk = nl_socket_alloc();
	if (!sk) {
		pr_err("sock_diag query of %s: cannot allocate a netlink socket", what);
		return -ENOMEM;
	}
	/* A dump answers with NLMSG_DONE; an ACK request would only add a
	 * message. Peeking sizes the receive buffer to each multipart batch. */
	nl_socket_disable_auto_ack(sk);
	nl_socket_enable_msg_peek(sk);
	err = nl_connect(sk, NETLINK_SOCK_DIAG);
	if (err < 0) {
		ret = nlerr_to_errno(err);
		pr_err("sock_diag query of %s: cannot open a NETLINK_SOCK_DIAG socket: %s",
		       what, nl_geterror(err));
		goto cleanup;
	}
	err = nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, valid_cb, &c);
	if (err < 0) {
		ret = nlerr_to_errno(err);
		pr_err("sock_diag query of %s: %s", what, nl_geterror(err));
		goto cleanup;
	}
	err = nl_send_simple(sk, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, (void *)req, req_len);
	if (err < 0) {
		ret = nlerr_to_errno(err);
		pr_err("sock_diag query of %s: cannot send the request: %s", what, nl_geterror(err));
		goto cleanup;
	}
	err = nl_recvmsgs_default(sk);
	if (c.ret) {
		/* The callback logged it. */
		ret = c.ret;
		goto cleanup;
	}
	if (err < 0) {
		ret = nlerr_to_errno(err);
		pr_err("sock_diag query of %s: %s", what, nl_geterror(err));
		goto cleanup;
	}
	ret = 0;
cleanup:
	nl_socket_free(sk);
	return ret;
}

/* ---- unix ---- */

static struct nla_policy unix_policy[UNIX_DIAG_MAX + 1] = {
	[UNIX_DIAG_NAME]     = { .type = NLA_UNSPEC },
	[UNIX_DIAG_VFS]      = { .minlen = sizeof(struct unix_diag_vfs) },
	[UNIX_DIAG_PEER]     = { .type = NLA_U32 },
	[UNIX_DIAG_ICONS]    = { .type = NLA_UNSPEC },
	[UNIX_DIAG_RQLEN]    = { .minlen = sizeof(struct unix_diag_rqlen) },
	[UNIX_DIAG_SHUTDOWN] = { .type = NLA_U8 },
};

int sk_diag_unix_parse(struct nlmsghdr *nlh, struct unix_diag_info *ui, const char **why)
{
	struct nlattr *tb[UNIX_DIAG_MAX + 1];
	const struct unix_diag_msg *m;
	int err;

	memset(ui, 0, sizeof(*ui));
	if (!nlmsg_valid_hdr(nlh, sizeof(*m))) {
		*why = "message shorter than struct unix_diag_msg";
		return -EINVAL;
	}
	m = nlmsg_data(nlh);
	if (m->udiag_family != AF_UNIX) {
		*why = "not an AF_UNIX answer";
		return -EINVAL;
	}
	err = nlmsg_parse(nlh, sizeof(*m), tb, UNIX_DIAG_MAX, unix_policy);
	if (err < 0) {
		*why = "malformed attributes";
		return -EINVAL;
	}
	ui->ino = m->udiag_ino;
	ui->type = m->udiag_type;
	ui->state = m->udiag_state;
	if (tb[UNIX_DIAG_NAME]) {
		size_t len = nla_len(tb[UNIX_DIAG_NAME]);

		if (len > SK_UNIX_NAME_MAX) {
			*why = "name longer than sun_path";
			return -EINVAL;
		}
		memcpy(ui->name, nla_data(tb[UNIX_DIAG_NAME]), len);
		ui->name_len = len;
	}
	if (tb[UNIX_DIAG_PEER])
		ui->peer = nla_get_u32(tb[UNIX_DIAG_PEER]);
	if (tb[UNIX_DIAG_RQLEN]) {
		const struct unix_diag_rqlen *rq = nla_data(tb[UNIX_DIAG_RQLEN]);

		ui->has_rqlen = true;
		ui->rqueue = rq->udiag_rqueue;
		ui->wqueue = rq->udiag_wqueue;
	}
	if (tb[UNIX_DIAG_VFS]) {
		const struct unix_diag_vfs *v = nla_data(tb[UNIX_DIAG_VFS]);

		ui->has_vfs = true;
		ui->vfs_dev = v->udiag_vfs_dev;
		ui->vfs_ino = v->udiag_vfs_ino;
	}
	if (tb[UNIX_DIAG_SHUTDOWN]) {
		ui->has_shutdown = true;
		ui->shutdown = nla_get_u8(tb[UNIX_DIAG_SHUTDOWN]);
	}
	if (tb[UNIX_DIAG_ICONS]) {
		size_t len = nla_len(tb[UNIX_DIAG_ICONS]);

		if (len % sizeof(uint32_t)) {
			*why = "pending connection list not a whole number of inodes";
			return -EINVAL;
		}
		ui->nr_icons = len / sizeof(uint32_t);
		if (ui->nr_icons) {
			ui->icons = malloc(len);
			if (!ui->icons) {
				*why = "out of memory";
				return -ENOMEM;
			}
			memcpy(ui->icons, nla_data(tb[UNIX_DIAG_ICONS]), len);
		}
	}
	return 0;
}

void sk_diag_unix_info_free(struct unix_diag_info *ui)
{
	free(ui->icons);
	ui->icons = NULL;
	ui->nr_icons = 0;
}

static int unix_cb(struct nlmsghdr *nlh, void *arg)
{
	struct unix_diag_table *t = arg;
	const char *why = NULL;
	int ret;

	if (t->nr == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct unix_diag_info *ne = realloc(t->e, cap * sizeof(*ne));

		if (!ne) {
			pr_err("sock_diag query of unix sockets: out of memory");
			return -ENOMEM;
		}
		t->e = ne;
		t->cap = cap;
	}
	ret = sk_diag_unix_parse(nlh, &t->e[t->nr], &why);
	if (ret) {
		pr_err("sock_diag query of unix sockets: bad answer: %s", why);
		return ret;
	}
	t->nr++;
	return 0;
}

static int cmp_ino(const void *a, const void *b)
{
	const struct unix_diag_info *x = a, *y = b;

	return (x->ino > y->ino) - (x->ino < y->ino);
}

void sk_diag_unix_sort(struct unix_diag_table *t)
{
	if (t->nr)
		qsort(t->e, t->nr, sizeof(*t->e), cmp_ino);
}

int sk_diag_unix_collect(struct unix_diag_table *t)
{
	struct unix_diag_req req = {
		.sdiag_family = AF_UNIX,
		.udiag_states = ~0u,
		.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN |
			      UDIAG_SHOW_ICONS | UDIAG_SHOW_VFS,
	};
	int ret;

	memset(t, 0, sizeof(*t));
	ret = sk_diag_dump("unix sockets", &req, sizeof(req), unix_cb, t);
	if (ret) {
		sk_diag_unix_free(t);
		return ret;
	}
	sk_diag_unix_sort(t);
	return 0;
}

const struct unix_diag_info *sk_diag_unix_find(const struct unix_diag_table *t, uint32_t ino)
{
	struct unix_diag_info key = { .ino = ino };

	if (!t->nr)
		return NULL;
	return bsearch(&key, t->e, t->nr, sizeof(*t->e), cmp_ino);
}

void sk_diag_unix_free(struct unix_diag_table *t)
{
	for (size_t i = 0; i < t->nr; i++)
		sk_diag_unix_info_free(&t->e[i]);
	free(t->e);
	memset(t, 0, sizeof(*t));
}
