/* minicr-test-sk: unix sockets with queued data and pending connections
 * across a dump, for tests/integration/unix-*.sh.
 *
 *   minicr-test-sk --dir DIR --mode stream|dgram|seqpacket|listen|dgram-bound|scm|peer-closed|dgram-connect|oob
 *
 * stream/dgram/seqpacket: a parent and a child joined by a socketpair of
 * that type. Before DIR/ready ("PARENT CHILD"), the child sends the parent
 * 1000 bytes (stream) or 5 messages of different sizes (one empty for
 * dgram), and the parent sends the child 300 bytes or 3 messages; nobody
 * reads. After DIR/go each checks it receives exactly that, message
 * boundaries kept and nothing more queued; the child then sends 500 bytes
 * (or 2 messages) and exits; the parent checks them, then EOF (stream,
 * seqpacket). The stream parent also peeks at SO_PEEK_OFF 10 before the
 * dump and checks its offset is 15 after.
 *
 * listen: the parent listens on DIR/sock (backlog 7). Child A binds to
 * DIR/a-sock, connects and is accepted, then sends 100 bytes the parent does not read. Children B1
 * and B2 connect, in this order, and are not accepted. After DIR/go: the
 * parent reads A's 100 bytes (A's accepted end still has the listener's
 * name), accepts twice and must get B1 then B2 (each
 * sends its name after go), then connects to DIR/sock itself and accepts
 * that, checking the listener still works.
 *
 * dgram-bound, scm, peer-closed, dgram-connect, oob: see run_dgram_bound(),
 * run_scm(), run_peer_closed(), run_dgram_connect(), run_oob().
 *
 * Verdict in DIR/result: "OK ..." or "FAIL ...". */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *dir;

static void put_file(const char *name, const char *fmt, ...)
{
	char path[4096], tmp[4096];
	va_list ap;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	f = fopen(tmp, "w");
	if (!f)
		exit(3);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	if (fclose(f) || rename(tmp, path))
		exit(3);
}

static void wait_file(const char *name)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	while (access(path, F_OK))
		nanosleep(&ts, NULL);
}

static char failure[512];

#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		snprintf(failure, sizeof(failure), __VA_ARGS__); \
		return -1; \
	} \
} while (0)

static unsigned char pattern(unsigned seed, size_t i)
{
	return (unsigned char)(seed * 31 + i * 7 + i / 253);
}

static void fill(unsigned char *b, unsigned seed, size_t from, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = pattern(seed, from + i);
}

static int send_all(int fd, unsigned seed, size_t from, size_t n)
{
	unsigned char b[4096];

	fill(b, seed, from, n);
	for (size_t done = 0; done < n;) {
		ssize_t w = send(fd, b + done, n - done, MSG_NOSIGNAL);

		CHECK(w > 0, "send: %s", strerror(errno));
		done += w;
	}
	return 0;
}

/* Exactly n bytes of the stream, as sent from offset 'from'. */
static int recv_stream(int fd, unsigned seed, size_t from, size_t n)
{
	unsigned char b[4096];

	for (size_t got = 0; got < n;) {
		ssize_t r = recv(fd, b + got, n - got, 0);

		CHECK(r > 0, "stream: recv after %zu of %zu bytes: %s", got, n,
		      r ? strerror(errno) : "EOF");
		got += r;
	}
	for (size_t i = 0; i < n; i++)
		CHECK(b[i] == pattern(seed, from + i), "stream: byte %zu is 0x%02x, want 0x%02x",
		      from + i, b[i], pattern(seed, from + i));
	return 0;
}

/* Message k of a sender: its size and content. */
static const size_t msg_sizes[] = { 1, 0, 700, 33, 4000, 2, 1500 };

static int send_msg(int fd, unsigned seed, int k, int type)
{
	unsigned char b[4096];
	size_t n = msg_sizes[k];
	ssize_t w;

	if (type == SOCK_SEQPACKET && !n)
		n = 5;          /* an empty record would read as EOF */
	fill(b, seed + k, 0, n);
	w = send(fd, b, n, MSG_NOSIGNAL);
	CHECK(w == (ssize_t)n, "send message %d: %s", k, strerror(errno));
	return 0;
}

static int recv_msg(int fd, unsigned seed, int k, int type)
{
	unsigned char b[8192];
	size_t n = msg_sizes[k];
	ssize_t r;

	if (type == SOCK_SEQPACKET && !n)
		n = 5;
	r = recv(fd, b, sizeof(b), 0);
	CHECK(r >= 0, "message %d: recv: %s", k, strerror(errno));
	CHECK((size_t)r == n, "message %d: %zd bytes, want %zu (boundaries lost?)", k, r, n);
	for (size_t i = 0; i < n; i++)
		CHECK(b[i] == pattern(seed + k, i), "message %d: byte %zu differs", k, i);
	return 0;
}

static int nothing_queued(int fd, const char *who)
{
	char c;
	ssize_t r = recv(fd, &c, 1, MSG_DONTWAIT);

	CHECK(r < 0 && errno == EAGAIN, "%s: more queued than expected (recv %zd)", who, r);
	return 0;
}

static int pair_child(int s, int type)
{
	if (type == SOCK_STREAM) {
		if (send_all(s, 1, 0, 1000))
			return -1;
	} else {
		for (int k = 0; k < 5; k++)
			if (send_msg(s, 1, k, type))
				return -1;
	}
	put_file("child-sent", "%d", getpid());
	wait_file("go");
	if (type == SOCK_STREAM) {
		if (recv_stream(s, 2, 0, 300) || nothing_queued(s, "child"))
			return -1;
		return send_all(s, 1, 1000, 500);
	}
	for (int k = 0; k < 3; k++)
		if (recv_msg(s, 2, k, type))
			return -1;
	if (nothing_queued(s, "child"))
		return -1;
	for (int k = 5; k < 7; k++)
		if (send_msg(s, 1, k, type))
			return -1;
	return 0;
}

/* Peek n bytes of sender 1's stream at SO_PEEK_OFF off (set unless
 * expect_set, which says it must be off already): they must be bytes
 * off..off+n-1; the offset moves on by n. */
static int peek_at(int fd, int off, size_t n, bool expect_set)
{
	unsigned char b[64];
	socklen_t len = sizeof(int);
	int cur = -2;

	CHECK(!getsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &cur, &len),
	      "SO_PEEK_OFF: %s", strerror(errno));
	if (cur == -1 && !expect_set)
		CHECK(!setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off)),
		      "SO_PEEK_OFF %d: %s", off, strerror(errno));
	else
		CHECK(cur == off, "SO_PEEK_OFF is %d, want %d", cur, off);
	CHECK(recv(fd, b, n, MSG_PEEK) == (ssize_t)n, "peek: %s", strerror(errno));
	for (size_t i = 0; i < n; i++)
		CHECK(b[i] == pattern(1, off + i), "peek at %d: byte %zu differs", off, i);
	return 0;
}

static int run_pair(int type)
{
	int sv[2], status;
	pid_t child;
	char c;

	CHECK(!socketpair(AF_UNIX, type, 0, sv), "socketpair: %s", strerror(errno));
	child = fork();
	CHECK(child >= 0, "fork: %s", strerror(errno));
	if (!child) {
		close(sv[0]);
		if (pair_child(sv[1], type)) {
			fprintf(stderr, "child: %s\n", failure);
			_exit(1);
		}
		_exit(0);
	}
	close(sv[1]);
	wait_file("child-sent");
	if (type == SOCK_STREAM) {
		if (send_all(sv[0], 2, 0, 300))
			return -1;
	} else {
		for (int k = 0; k < 3; k++)
			if (send_msg(sv[0], 2, k, type))
				return -1;
	}
	if (type == SOCK_STREAM && peek_at(sv[0], 10, 5, false))
		return -1;
	put_file("ready", "%d %d", getpid(), child);
	wait_file("go");
	if (type == SOCK_STREAM) {
		/* The task's own peek offset survives the dump's peeking. */
		if (peek_at(sv[0], 15, 5, true))
			return -1;
		if (recv_stream(sv[0], 1, 0, 1500))
			return -1;
	} else {
		for (int k = 0; k < 7; k++)
			if (recv_msg(sv[0], 1, k, type))
				return -1;
	}
	CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && !WEXITSTATUS(status),
	      "child failed (status 0x%x, see log)", status);
	if (type == SOCK_DGRAM)
		return nothing_queued(sv[0], "parent");
	CHECK(recv(sv[0], &c, 1, 0) == 0, "no EOF after the child exited");
	return 0;
}

/* A stream socket connected to a, bound first to me if given. */
static int connect_to(const struct sockaddr_un *a, const struct sockaddr_un *me)
{
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	if (s < 0 || (me && bind(s, (const struct sockaddr *)me, sizeof(*me))) ||
	    connect(s, (const struct sockaddr *)a, sizeof(*a)))
		return -1;
	return s;
}

static pid_t client(const struct sockaddr_un *a, const struct sockaddr_un *me, const char *name,
		    bool send_early)
{
	pid_t p = fork();
	int s;

	if (p)
		return p;
	s = connect_to(a, me);
	if (s < 0)
		_exit(4);
	if (send_early && send_all(s, 3, 0, 100))
		_exit(5);
	put_file(name, "%d", getpid());
	wait_file("go");
	if (!send_early && send(s, name, strlen(name) + 1, MSG_NOSIGNAL) != (ssize_t)strlen(name) + 1)
		_exit(6);
	/* Wait for the parent to close, so the connection stays up. */
	{
		char c;

		while (recv(s, &c, 1, 0) > 0)
			;
	}
	_exit(0);
}

static int expect_name(int conn, const char *want)
{
	char buf[32] = { 0 };
	ssize_t r = recv(conn, buf, sizeof(buf) - 1, 0);

	CHECK(r == (ssize_t)strlen(want) + 1 && !strcmp(buf, want),
	      "accepted connection says \"%s\" (%zd bytes), want \"%s\" (pending order lost?)",
	      r > 0 ? buf : "", r, want);
	return 0;
}

static int run_listen(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX }, an = { .sun_family = AF_UNIX };
	pid_t kids[3];
	int l, ca, c1, c2, me, mine, status;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s/sock", dir);
	unlink(a.sun_path);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(l >= 0 && !bind(l, (struct sockaddr *)&a, sizeof(a)) && !listen(l, 7),
	      "listen on %s: %s", a.sun_path, strerror(errno));
	snprintf(an.sun_path, sizeof(an.sun_path), "%s/a-sock", dir);
	unlink(an.sun_path);
	kids[0] = client(&a, &an, "A", true);
	ca = accept(l, NULL, NULL);
	CHECK(ca >= 0, "accept A: %s", strerror(errno));
	wait_file("A");
	kids[1] = client(&a, NULL, "B1", false);
	wait_file("B1");
	kids[2] = client(&a, NULL, "B2", false);
	wait_file("B2");
	put_file("ready", "%d %d %d %d", getpid(), kids[0], kids[1], kids[2]);
	wait_file("go");
	if (recv_stream(ca, 3, 0, 100) || nothing_queued(ca, "connection A"))
		return -1;
	{
		struct sockaddr_un n = { 0 };
		socklen_t nl = sizeof(n);

		CHECK(!getsockname(ca, (struct sockaddr *)&n, &nl) && !strcmp(n.sun_path, a.sun_path),
		      "accepted connection A is named \"%s\", want \"%s\"", n.sun_path, a.sun_path);
		nl = sizeof(n);
		CHECK(!getpeername(ca, (struct sockaddr *)&n, &nl) && !strcmp(n.sun_path, an.sun_path),
		      "client A is named \"%s\", want \"%s\"", n.sun_path, an.sun_path);
	}
	c1 = accept(l, NULL, NULL);
	CHECK(c1 >= 0, "accept of pending B1: %s", strerror(errno));
	if (expect_name(c1, "B1"))
		return -1;
	c2 = accept(l, NULL, NULL);
	CHECK(c2 >= 0, "accept of pending B2: %s", strerror(errno));
	if (expect_name(c2, "B2"))
		return -1;
	me = connect_to(&a, NULL);
	CHECK(me >= 0, "new connection to %s after restore: %s", a.sun_path, strerror(errno));
	mine = accept4(l, NULL, NULL, SOCK_NONBLOCK);
	CHECK(mine >= 0, "accept of a new connection: %s", strerror(errno));
	{
		char c = 0;

		CHECK(send(me, "x", 1, 0) == 1 && recv(mine, &c, 1, 0) == 1 && c == 'x',
		      "new connection does not carry data");
	}
	close(ca);
	close(c1);
	close(c2);
	for (int i = 0; i < 3; i++)
		CHECK(waitpid(kids[i], &status, 0) == kids[i] && WIFEXITED(status) &&
		      !WEXITSTATUS(status), "client %d failed (status 0x%x)", i, status);
	return 0;
}

/* dgram-bound: the parent binds a datagram socket to DIR/dsock and another
 * to an abstract name; the child, unconnected and unnamed, sends 3
 * messages to each with sendto(); nobody reads. After go the parent must
 * get them in order, boundaries kept, then 2 more sent after the restore. */
static int run_dgram_bound(void)
{
	struct sockaddr_un a[2] = { { .sun_family = AF_UNIX }, { .sun_family = AF_UNIX } };
	socklen_t alen[2];
	int s[2], status;
	pid_t child;

	snprintf(a[0].sun_path, sizeof(a[0].sun_path), "%s/dsock", dir);
	alen[0] = sizeof(a[0]);
	unlink(a[0].sun_path);
	/* abstract: a NUL, then the name, length given by addrlen */
	alen[1] = offsetof(struct sockaddr_un, sun_path) + 1 +
		  snprintf(a[1].sun_path + 1, sizeof(a[1].sun_path) - 1, "minicr-test-%d", getpid());
	for (int i = 0; i < 2; i++) {
		s[i] = socket(AF_UNIX, SOCK_DGRAM, 0);
		CHECK(s[i] >= 0 && !bind(s[i], (struct sockaddr *)&a[i], alen[i]),
		      "bind datagram socket %d: %s", i, strerror(errno));
	}
	child = fork();
	CHECK(child >= 0, "fork: %s", strerror(errno));
	if (!child) {
		int c = socket(AF_UNIX, SOCK_DGRAM, 0);
		unsigned char b[4096];

		for (int round = 0; round < 2; round++) {
			for (int k = round ? 3 : 0; k < (round ? 5 : 3); k++)
				for (int i = 0; i < 2; i++) {
					fill(b, 10 * i + 5 + k, 0, msg_sizes[k]);
					if (sendto(c, b, msg_sizes[k], 0, (struct sockaddr *)&a[i],
						   alen[i]) != (ssize_t)msg_sizes[k])
						_exit(4);
				}
			if (!round) {
				put_file("child-sent", "%d", getpid());
				wait_file("go");
			}
		}
		_exit(0);
	}
	wait_file("child-sent");
	put_file("ready", "%d %d", getpid(), child);
	wait_file("go");
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < 5; k++)
			if (recv_msg(s[i], 10 * i + 5, k, SOCK_DGRAM))
				return -1;
	CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && !WEXITSTATUS(status),
	      "child failed (status 0x%x)", status);
	return nothing_queued(s[0], "path socket") || nothing_queued(s[1], "abstract socket");
}

/* scm: the child sends the parent an fd (SCM_RIGHTS) that stays in flight,
 * unread. The dump must refuse; after go the parent receives it. */
static int run_scm(void)
{
	char cbuf[CMSG_SPACE(sizeof(int))], data = 'f';
	struct iovec iov = { &data, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	int sv[2], status;
	pid_t child;

	CHECK(!socketpair(AF_UNIX, SOCK_STREAM, 0, sv), "socketpair: %s", strerror(errno));
	child = fork();
	CHECK(child >= 0, "fork: %s", strerror(errno));
	if (!child) {
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		int fd = open("/dev/null", O_RDONLY);

		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
		if (sendmsg(sv[1], &mh, 0) != 1)
			_exit(4);
		put_file("child-sent", "%d", getpid());
		wait_file("go");
		_exit(0);
	}
	wait_file("child-sent");
	put_file("ready", "%d %d", getpid(), child);
	wait_file("go");
	CHECK(recvmsg(sv[0], &mh, 0) == 1 && data == 'f', "recvmsg: %s", strerror(errno));
	CHECK(CMSG_FIRSTHDR(&mh) && CMSG_FIRSTHDR(&mh)->cmsg_type == SCM_RIGHTS,
	      "the fd in flight was lost");
	CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && !WEXITSTATUS(status),
	      "child failed (status 0x%x)", status);
	return 0;
}

/* oob: the child sends "abc", an out-of-band "X", then "def", unread. The
 * dump must refuse; after go the parent reads the data and the OOB byte. */
static int run_oob(void)
{
	char buf[16] = { 0 }, c = 0;
	int sv[2], status;
	pid_t child;

	CHECK(!socketpair(AF_UNIX, SOCK_STREAM, 0, sv), "socketpair: %s", strerror(errno));
	child = fork();
	CHECK(child >= 0, "fork: %s", strerror(errno));
	if (!child) {
		if (send(sv[1], "abc", 3, 0) != 3 || send(sv[1], "X", 1, MSG_OOB) != 1 ||
		    send(sv[1], "def", 3, 0) != 3)
			_exit(4);
		put_file("child-sent", "%d", getpid());
		wait_file("go");
		_exit(0);
	}
	wait_file("child-sent");
	put_file("ready", "%d %d", getpid(), child);
	wait_file("go");
	CHECK(recv(sv[0], &c, 1, MSG_OOB) == 1 && c == 'X', "the OOB byte is not there");
	CHECK(recv(sv[0], buf, 3, 0) == 3 && !strcmp(buf, "abc"), "\"abc\" is not there");
	CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && !WEXITSTATUS(status),
	      "child failed (status 0x%x)", status);
	return 0;
}

/* peer-closed: a stream and a seqpacket socketpair whose other end was
 * closed after sending 2 messages: after go both are read back (the
 * stream as one run of bytes), then EOF. */
static int run_peer_closed(void)
{
	int types[2] = { SOCK_STREAM, SOCK_SEQPACKET }, sv[2][2];
	char c;

	for (int i = 0; i < 2; i++) {
		CHECK(!socketpair(AF_UNIX, types[i], 0, sv[i]), "socketpair: %s", strerror(errno));
		if (send_msg(sv[i][1], 20, 2, types[i]) || send_msg(sv[i][1], 20, 3, types[i]))
			return -1;
		close(sv[i][1]);
	}
	put_file("ready", "%d", getpid());
	wait_file("go");
	for (int i = 0; i < 2; i++) {
		unsigned char b[8192];
		size_t want = msg_sizes[2] + msg_sizes[3];
		ssize_t r;

		if (types[i] == SOCK_SEQPACKET) {
			if (recv_msg(sv[i][0], 20, 2, types[i]) || recv_msg(sv[i][0], 20, 3, types[i]))
				return -1;
		} else {
			for (size_t got = 0; got < want; got += r) {
				r = recv(sv[i][0], b + got, sizeof(b) - got, 0);
				CHECK(r > 0, "stream: %zu of %zu bytes, then %s", got, want,
				      r ? strerror(errno) : "EOF");
			}
			{
				unsigned char e[8192];

				fill(e, 22, 0, msg_sizes[2]);
				fill(e + msg_sizes[2], 23, 0, msg_sizes[3]);
				CHECK(!memcmp(b, e, want), "stream: data differs");
			}
		}
		CHECK(recv(sv[i][0], &c, 1, 0) == 0, "type %d: no EOF after the data", types[i]);
	}
	return 0;
}

static socklen_t abstract_addr(struct sockaddr_un *a, const char *tag, pid_t pid)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	return offsetof(struct sockaddr_un, sun_path) + 1 +
	       snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "minicr-%s-%d", tag, pid);
}

static bool same_addr(const struct sockaddr_un *a, socklen_t al, const struct sockaddr_un *b,
		      socklen_t bl)
{
	return al == bl && !memcmp(a, b, al);
}

/* dgram-connect: the parent's datagram socket is bound to DIR/log. The
 * child has two datagram sockets connected to it: c, unnamed, sends 3
 * messages; d, bound to an abstract name, gets 2 from the parent (sendto
 * its name). A stream socketpair's child end is bound to DIR/named (bind
 * after socketpair) and sends "hi". After go: everyone gets their
 * messages, from the right sender address; names and peer names are as
 * before; d then sends 2 more, which arrive from its name. */
static int run_dgram_connect(void)
{
	struct sockaddr_un srv = { .sun_family = AF_UNIX }, named = { .sun_family = AF_UNIX };
	struct sockaddr_un dn, from, n;
	socklen_t dlen, flen, nl;
	int s, sv[2], status;
	pid_t child;
	char buf[16];

	snprintf(srv.sun_path, sizeof(srv.sun_path), "%s/log", dir);
	snprintf(named.sun_path, sizeof(named.sun_path), "%s/named", dir);
	unlink(srv.sun_path);
	unlink(named.sun_path);
	s = socket(AF_UNIX, SOCK_DGRAM, 0);
	CHECK(s >= 0 && !bind(s, (struct sockaddr *)&srv, sizeof(srv)), "bind %s: %s",
	      srv.sun_path, strerror(errno));
	CHECK(!socketpair(AF_UNIX, SOCK_STREAM, 0, sv), "socketpair: %s", strerror(errno));
	child = fork();
	CHECK(child >= 0, "fork: %s", strerror(errno));
	if (!child) {
		int c = socket(AF_UNIX, SOCK_DGRAM, 0), d = socket(AF_UNIX, SOCK_DGRAM, 0);

		close(s);
		close(sv[0]);
		dlen = abstract_addr(&dn, "client", getpid());
		if (c < 0 || d < 0 || connect(c, (struct sockaddr *)&srv, sizeof(srv)) ||
		    bind(d, (struct sockaddr *)&dn, dlen) ||
		    connect(d, (struct sockaddr *)&srv, sizeof(srv)) ||
		    bind(sv[1], (struct sockaddr *)&named, sizeof(named)) ||
		    send(sv[1], "hi", 3, 0) != 3)
			_exit(4);
		for (int k = 0; k < 3; k++)
			if (send_msg(c, 30, k, SOCK_DGRAM))
				_exit(5);
		put_file("child-sent", "%d", getpid());
		wait_file("go");
		for (int k = 0; k < 2; k++)
			if (recv_msg(d, 40, k, SOCK_DGRAM))
				_exit(6);
		nl = sizeof(n);
		if (getpeername(d, (struct sockaddr *)&n, &nl) || strcmp(n.sun_path, srv.sun_path))
			_exit(7);
		nl = sizeof(n);
		if (getsockname(sv[1], (struct sockaddr *)&n, &nl) ||
		    strcmp(n.sun_path, named.sun_path))
			_exit(8);
		for (int k = 3; k < 5; k++)
			if (send_msg(d, 30, k, SOCK_DGRAM))
				_exit(9);
		_exit(0);
	}
	close(sv[1]);
	wait_file("child-sent");
	dlen = abstract_addr(&dn, "client", child);
	for (int k = 0; k < 2; k++) {
		unsigned char b[4096];

		fill(b, 40 + k, 0, msg_sizes[k]);
		CHECK(sendto(s, b, msg_sizes[k], 0, (struct sockaddr *)&dn, dlen) ==
		      (ssize_t)msg_sizes[k], "sendto the child: %s", strerror(errno));
	}
	put_file("ready", "%d %d", getpid(), child);
	wait_file("go");
	for (int k = 0; k < 5; k++) {
		unsigned char b[8192];
		ssize_t r;

		flen = sizeof(from);
		r = recvfrom(s, b, sizeof(b), 0, (struct sockaddr *)&from, &flen);
		CHECK(r == (ssize_t)msg_sizes[k], "message %d: %zd bytes, want %zu", k, r,
		      msg_sizes[k]);
		for (size_t i = 0; i < msg_sizes[k]; i++)
			CHECK(b[i] == pattern(30 + k, i), "message %d: byte %zu differs", k, i);
		if (k < 3)
			CHECK(flen <= sizeof(sa_family_t), "message %d: from a named address", k);
		else
			CHECK(same_addr(&from, flen, &dn, dlen), "message %d: from another address", k);
	}
	CHECK(recv(sv[0], buf, sizeof(buf), 0) == 3 && !strcmp(buf, "hi"),
	      "stream socketpair: the queued \"hi\" is not there");
	nl = sizeof(n);
	CHECK(!getpeername(sv[0], (struct sockaddr *)&n, &nl) && !strcmp(n.sun_path, named.sun_path),
	      "stream socketpair: peer named \"%s\", want \"%s\"", n.sun_path, named.sun_path);
	CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && !WEXITSTATUS(status),
	      "child failed (status 0x%x)", status);
	return nothing_queued(s, "server");
}

int main(int argc, char **argv)
{
	const char *mode = NULL;
	int ret;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--dir"))
			dir = argv[i + 1];
		else if (!strcmp(argv[i], "--mode"))
			mode = argv[i + 1];
	}
	if (!dir || !mode) {
		fprintf(stderr, "usage: %s --dir DIR --mode stream|dgram|seqpacket|listen|dgram-bound|scm|peer-closed|dgram-connect|oob\n",
			argv[0]);
		return 2;
	}
	if (!strcmp(mode, "stream"))
		ret = run_pair(SOCK_STREAM);
	else if (!strcmp(mode, "dgram"))
		ret = run_pair(SOCK_DGRAM);
	else if (!strcmp(mode, "seqpacket"))
		ret = run_pair(SOCK_SEQPACKET);
	else if (!strcmp(mode, "listen"))
		ret = run_listen();
	else if (!strcmp(mode, "dgram-bound"))
		ret = run_dgram_bound();
	else if (!strcmp(mode, "scm"))
		ret = run_scm();
	else if (!strcmp(mode, "peer-closed"))
		ret = run_peer_closed();
	else if (!strcmp(mode, "dgram-connect"))
		ret = run_dgram_connect();
	else if (!strcmp(mode, "oob"))
		ret = run_oob();
	else
		return 2;
	if (ret) {
		put_file("result", "FAIL %s: %s", mode, failure);
		return 1;
	}
	put_file("result", "OK %s: queued data, boundaries and connections as before", mode);
	return 0;
}
