/* See views.h. A view writes into memory and prints only once every image
 * it shows has been read, so a damaged image set gives an error naming
 * the file and no half table. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "files.pb-c.h"
#include "image.h"
#include "imgset.h"
#include "imgtypes.h"
#include "log.h"
#include "views.h"

/* The kernel's O_LARGEFILE, which fdinfo reports for every file a 64-bit
 * task opens; glibc defines O_LARGEFILE as 0 on x86_64. */
#define KERNEL_O_LARGEFILE 0100000

/* ---- pure helpers ---- */

void views_open_flags(uint32_t flags, bool cloexec, char *buf, size_t len)
{
	/* Multi-bit names first: O_SYNC includes O_DSYNC, O_TMPFILE
	 * includes O_DIRECTORY. */
	static const struct {
		uint32_t mask;
		const char *name;
	} names[] = {
		{ O_SYNC, "O_SYNC" }, { O_TMPFILE, "O_TMPFILE" },
		{ O_CREAT, "O_CREAT" }, { O_EXCL, "O_EXCL" }, { O_NOCTTY, "O_NOCTTY" },
		{ O_TRUNC, "O_TRUNC" }, { O_APPEND, "O_APPEND" }, { O_NONBLOCK, "O_NONBLOCK" },
		{ O_DSYNC, "O_DSYNC" }, { O_ASYNC, "O_ASYNC" }, { O_DIRECT, "O_DIRECT" },
		{ KERNEL_O_LARGEFILE, "O_LARGEFILE" }, { O_DIRECTORY, "O_DIRECTORY" },
		{ O_NOFOLLOW, "O_NOFOLLOW" }, { O_NOATIME, "O_NOATIME" },
		{ O_CLOEXEC, "O_CLOEXEC" }, { O_PATH, "O_PATH" },
	};
	static const char *const acc[] = { "O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE" };
	char hex[16];
	size_t n;

	if (cloexec)
		flags |= O_CLOEXEC;
	n = snprintf(buf, len, "%s", acc[flags & O_ACCMODE]);
	flags &= ~(uint32_t)O_ACCMODE;
	for (size_t i = 0; i <= sizeof(names) / sizeof(names[0]) && n < len; i++) {
		const char *name = hex;

		if (i < sizeof(names) / sizeof(names[0])) {
			if ((flags & names[i].mask) != names[i].mask)
				continue;
			name = names[i].name;
			flags &= ~names[i].mask;
		} else if (flags) {
			snprintf(hex, sizeof(hex), "0x%x", flags);
		} else {
			break;
		}
		/* Whole names only: a cut one would name another flag. */
		if (n + 1 + strlen(name) >= len)
			break;
		n += snprintf(buf + n, len - n, "|%s", name);
	}
}

void views_prot(uint32_t prot, char buf[4])
{
	buf[0] = prot & PROT_READ ? 'r' : '-';
	buf[1] = prot & PROT_WRITE ? 'w' : '-';
	buf[2] = prot & PROT_EXEC ? 'x' : '-';
	buf[3] = '\0';
}

uint64_t views_run_pages(PagemapEntry *const *runs, size_t n, uint64_t start, uint64_t end)
{
	uint64_t pages = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t s = runs[i]->vaddr, e;

		/* A corrupt run may wrap: count it up to the end of the space. */
		if (__builtin_add_overflow(s, runs[i]->nr_pages * VIEWS_PAGE_SIZE, &e))
			e = UINT64_MAX;
		if (s < start)
			s = start;
		if (e > end)
			e = end;
		if (s < e)
			pages += (e - s) / VIEWS_PAGE_SIZE;
	}
	return pages;
}

/* ---- reading images ---- */

/* Every entry of the image (kind, id) of the set. */
static int read_entries(const struct imgset *s, enum img_kind kind, uint64_t id, struct msgs *ms)
{
	char name[NAME_MAX + 1];
	int ret;

	ret = img_file_name(kind, id, name, sizeof(name));
	if (ret) {
		pr_err("%s: image name for %llu: %s", s->dir, (unsigned long long)id, errstr(ret));
		return ret;
	}
	return imgset_read_all(s->dirfd, name, &img_types[kind], ms);
}

/* ---- aligned text tables ---- */

/* Rows of cells printed with each column as wide as its widest cell; the
 * last column is free text. align[i] is 'l' or 'r'. */
struct table {
	const char *align;
	size_t ncols, nrows, cap;
	char **cells;
};

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->cap = 0;
}

/* Takes the cells (malloc'd strings, NULL if their allocation failed) in
 * every case. */
static int table_add(struct table *t, char **cells)
{
	char **nc;
	int ret = 0;

	for (size_t i = 0; i < t->ncols; i++)
		if (!cells[i])
			ret = -ENOMEM;
	if (!ret && t->nrows == t->cap) {
		nc = realloc(t->cells, (t->cap ? t->cap * 2 : 32) * t->ncols * sizeof(*nc));
		if (nc) {
			t->cells = nc;
			t->cap = t->cap ? t->cap * 2 : 32;
		} else {
			ret = -ENOMEM;
		}
	}
	if (ret) {
		for (size_t i = 0; i < t->ncols; i++)
			free(cells[i]);
		return ret;
	}
	memcpy(t->cells + t->nrows++ * t->ncols, cells, t->ncols * sizeof(*cells));
	return 0;
}

static void table_print(FILE *out, const struct table *t, int indent)
{
	size_t w[16] = { 0 };

	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols && c < 16; c++)
			if (strlen(t->cells[r * t->ncols + c]) > w[c])
				w[c] = strlen(t->cells[r * t->ncols + c]);
	for (size_t r = 0; r < t->nrows; r++) {
		fprintf(out, "%*s", indent, "");
		for (size_t c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[r * t->ncols + c];

			if (c == t->ncols - 1)
				fprintf(out, "%s\n", cell);
			else if (t->align[c] == 'r')
				fprintf(out, "%*s  ", (int)w[c], cell);
			else
				fprintf(out, "%-*s  ", (int)w[c], cell);
		}
	}
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, f);
	n = vasprintf(&s, f, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

/* A string of a view built piece by piece. */
struct text {
	FILE *f;
	char *buf;
	size_t len;
};

static int text_open(struct text *tx)
{
	tx->buf = NULL;
	tx->f = open_memstream(&tx->buf, &tx->len);
	return tx->f ? 0 : -ENOMEM;
}

/* The string (the caller frees it) or NULL. */
static char *text_close(struct text *tx)
{
	if (fclose(tx->f)) {
		free(tx->buf);
		return NULL;
	}
	return tx->buf;
}

static void task_header(FILE *out, const struct task *t, const char *what)
{
	fprintf(out, "task %d %s%s\n", t->ps->pid, t->core->comm, what);
}

/* ---- show ---- */

static void show_print(const struct imgset *s)
{
	printf("%7s %7s %7s %7s %-5s %7s  %s\n",
	       "PID", "PPID", "PGID", "SID", "STATE", "THREADS", "COMMAND");
	for (size_t i = 0; i < s->tr.nr; i++) {
		const struct task *t = &s->tr.t[s->order[i]];
		char state[2] = { state_letter(t->core->state), '\0' };

		printf("%7d %7d %7d %7d %-5s %7zu  %*s%s\n", t->ps->pid, t->ps->ppid, t->ps->pgid,
		       t->ps->sid, state, t->ps->n_threads, t->depth * 2, "", t->core->comm);
	}
}

static int json_add(struct json_object *o, const char *key, struct json_object *v)
{
	if (!v || json_object_object_add(o, key, v)) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static struct json_object *task_json(const struct task *t)
{
	char state[2] = { state_letter(t->core->state), '\0' };
	struct json_object *o = json_object_new_object();

	if (!o || json_add(o, "pid", json_object_new_int(t->ps->pid)) ||
	    json_add(o, "ppid", json_object_new_int(t->ps->ppid)) ||
	    json_add(o, "pgid", json_object_new_int(t->ps->pgid)) ||
	    json_add(o, "sid", json_object_new_int(t->ps->sid)) ||
	    json_add(o, "state", json_object_new_string(state)) ||
	    json_add(o, "threads", json_object_new_uint64(t->ps->n_threads)) ||
	    json_add(o, "comm", json_object_new_string(t->core->comm)) ||
	    json_add(o, "children", json_object_new_array())) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* {"roots": [task, ...]}, each task with its "children" nested, in the
 * order show prints them. */
static int show_json(const struct imgset *s)
{
	struct json_object **objs = calloc(s->tr.nr ? s->tr.nr : 1, sizeof(*objs));
	struct json_object *root = json_object_new_object(), *roots = json_object_new_array();
	int ret = -ENOMEM;

	if (!objs || !root || json_add(root, "roots", roots)) {
		roots = NULL;
		goto out;
	}
	for (size_t i = 0; i < s->tr.nr; i++) {
		long ti = s->order[i], p = s->tr.t[ti].parent;
		struct json_object *list = roots;

		objs[ti] = task_json(&s->tr.t[ti]);
		if (!objs[ti])
			goto out;
		/* tree_order() put the parent first. */
		if (p >= 0)
			json_object_object_get_ex(objs[p], "children", &list);
		if (json_object_array_add(list, objs[ti])) {
			json_object_put(objs[ti]);
			goto out;
		}
	}
	printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
			JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
	ret = 0;
out:
	if (ret)
		pr_err("%s: %s", s->dir, errstr(ret));
	json_object_put(root);
	if (!root)
		json_object_put(roots);
	free(objs);
	return ret;
}

/* A view's command: "DIR", or "DIR --json" (either order) where allowed;
 * fn prints the view of the opened set. */
static int view_main(int argc, char **argv, bool allow_json,
		     int (*fn)(const struct imgset *s, bool json))
{
	const char *dir = NULL;
	struct imgset s;
	bool json = false;
	int ret;

	for (int i = 0; i < argc; i++) {
		if (allow_json && !strcmp(argv[i], "--json"))
			json = true;
		else if (!dir && argv[i][0] && argv[i][0] != '-')
			dir = argv[i];
		else
			return EXIT_USAGE;
	}
	if (!dir)
		return EXIT_USAGE;
	ret = imgset_open(dir, &s);
	if (!ret)
		ret = fn(&s, json);
	imgset_close(&s);
	if (flush_stdout())
		ret = -EIO;
	return ret ? 1 : 0;
}

static int show_fn(const struct imgset *s, bool json)
{
	if (json)
		return show_json(s);
	show_print(s);
	return 0;
}

int views_show(int argc, char **argv)
{
	return view_main(argc, argv, true, show_fn);
}

/* ---- fds ---- */

/* Who holds a file: the task and its fd. */
struct holder {
	uint32_t file_id;
	int pid, fd;
};

struct fdview {
	const struct imgset *s;
	struct msgs files;      /* FileEntry, sorted by id */
	struct msgs *fds;       /* per task (tr.t index): FdEntry */
	struct holder *holders; /* sorted by file id, then pid and fd */
	size_t nr_holders;
};

static int cmp_file_id(const void *a, const void *b)
{
	uint32_t x = (*(FileEntry *const *)a)->id, y = (*(FileEntry *const *)b)->id;

	return (x > y) - (x < y);
}

static int cmp_holder(const void *a, const void *b)
{
	const struct holder *x = a, *y = b;

	if (x->file_id != y->file_id)
		return x->file_id < y->file_id ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return (x->fd > y->fd) - (x->fd < y->fd);
}

static const FileEntry *find_file(const struct fdview *v, uint32_t id)
{
	FileEntry key = { .id = id }, *kp = &key, **f;

	if (!v->files.n)
		return NULL;
	f = bsearch(&kp, v->files.m, v->files.n, sizeof(*v->files.m), cmp_file_id);
	return f ? *f : NULL;
}

static void fdview_free(struct fdview *v)
{
	msgs_free(&v->files);
	for (size_t i = 0; v->fds && i < v->s->tr.nr; i++)
		msgs_free(&v->fds[i]);
	free(v->fds);
	free(v->holders);
}

static int fdview_load(const struct imgset *s, struct fdview *v)
{
	size_t n = 0;
	int ret;

	memset(v, 0, sizeof(*v));
	v->s = s;
	ret = read_entries(s, IMG_FILE_DESCS, 0, &v->files);
	if (ret)
		return ret;
	if (v->files.n)         /* an empty files.img leaves m NULL */
		qsort(v->files.m, v->files.n, sizeof(*v->files.m), cmp_file_id);
	v->fds = calloc(s->tr.nr ? s->tr.nr : 1, sizeof(*v->fds));
	if (!v->fds)
		goto nomem;
	for (size_t i = 0; i < s->tr.nr; i++) {
		if (task_is_zombie(&s->tr.t[i]))
			continue;
		ret = read_entries(s, IMG_FDS, s->tr.t[i].ps->pid, &v->fds[i]);
		if (ret)
			return ret;
		n += v->fds[i].n;
	}
	v->holders = malloc((n ? n : 1) * sizeof(*v->holders));
	if (!v->holders)
		goto nomem;
	for (size_t i = 0; i < s->tr.nr; i++) {
		for (size_t k = 0; k < v->fds[i].n; k++) {
			const FdEntry *fe = (const FdEntry *)v->fds[i].m[k];

			v->holders[v->nr_holders++] = (struct holder){
				.file_id = fe->file_id, .pid = s->tr.t[i].ps->pid,
				.fd = fe->fd };
		}
	}
	qsort(v->holders, v->nr_holders, sizeof(*v->holders), cmp_holder);
	return 0;
nomem:
	pr_err("%s: %s", s->dir, errstr(-ENOMEM));
	return -ENOMEM;
}

/* "task 5 fd 4, task 6 fd 4" for every fd open on the file. */
static void put_holders(FILE *f, const struct fdview *v, uint32_t file_id)
{
	size_t lo = 0, hi = v->nr_holders, shown = 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v->holders[mid].file_id < file_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < v->nr_holders && v->holders[lo].file_id == file_id; lo++)
		fprintf(f, "%stask %d fd %d", shown++ ? ", " : "", v->holders[lo].pid,
			v->holders[lo].fd);
	if (!shown)
		fprintf(f, "file %u, held by no fd", file_id);
}

static const char *fd_kind_name(int kind)
{
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(&fd_kind__descriptor, kind);

	return ev ? ev->name + strlen("FD_") : "?";
}

/* Bytes of a socket name, abstract ones with a leading @, anything not
 * printable escaped. */
static void put_sun_path(FILE *f, const ProtobufCBinaryData *name)
{
	for (size_t i = 0; i < name->len; i++) {
		uint8_t c = name->data[i];

		if (!i && !c)
			fputc('@', f);
		else if (c >= 0x20 && c < 0x7f && c != '\\')
			fputc(c, f);
		else
			fprintf(f, "\\x%02x", c);
	}
}

static void put_unix(FILE *f, const struct fdview *v, const UnixSkEntry *u)
{
	static const char *const types[] = { [1] = "stream", [2] = "dgram", [5] = "seqpacket" };

	fprintf(f, "unix:[%u] %s", u->ino,
		u->type < 6 && types[u->type] ? types[u->type] : "?");
	if (u->state == 10)             /* TCP_LISTEN */
		fputs(" listening", f);
	if (u->has_name && u->name.len) {
		fputs(" name ", f);
		put_sun_path(f, &u->name);
	}
	if (u->has_peer_file_id) {
		fprintf(f, " peer unix:[%u] ", u->peer_ino);
		put_holders(f, v, u->peer_file_id);
	} else if (u->has_peer_ino) {
		fprintf(f, " peer unix:[%u] (not in the tree)", u->peer_ino);
	}
	if (u->n_queue) {
		uint64_t bytes = 0;

		for (size_t i = 0; i < u->n_queue; i++)
			bytes += u->queue[i].len;
		/* A stream queue is one entry: only records have a count. */
		if (u->type == SOCK_STREAM)
			fprintf(f, " (%llu bytes queued)", (unsigned long long)bytes);
		else
			fprintf(f, " (%zu messages, %llu bytes queued)", u->n_queue,
				(unsigned long long)bytes);
	}
}

static void put_inet_addr(FILE *f, uint32_t family, const ProtobufCBinaryData *a, uint32_t port)
{
	char buf[INET6_ADDRSTRLEN];
	size_t want = family == AF_INET6 ? 16 : 4;

	if (a->len != want || !inet_ntop(family, a->data, buf, sizeof(buf)))
		snprintf(buf, sizeof(buf), "?");
	fprintf(f, family == AF_INET6 ? "[%s]:%u" : "%s:%u", buf, port);
}

static void put_inet(FILE *f, const InetSkEntry *in)
{
	fprintf(f, "%s%s ", in->protocol == IPPROTO_TCP ? "tcp" :
		in->protocol == IPPROTO_UDP ? "udp" : "ip", in->family == AF_INET6 ? "6" : "4");
	put_inet_addr(f, in->family, &in->src_addr, in->src_port);
	if (in->has_dst_addr) {
		fputs(" -> ", f);
		put_inet_addr(f, in->family, &in->dst_addr, in->dst_port);
	}
	if (in->state == 10)            /* TCP_LISTEN */
		fputs(" listening", f);
}

/* What the file is open on, for the last column. */
static void put_object(FILE *f, const struct fdview *v, const FileEntry *fe)
{
	switch (fe->kind) {
	case FD_KIND__FD_PIPE:
		if (!fe->pipe)
			break;
		if (fe->pipe->has_reopened_from) {
			fprintf(f, "pipe:[%llu] reopened from: ", (unsigned long long)fe->pipe->pipe_ino);
			put_holders(f, v, fe->pipe->reopened_from);
			return;
		}
		fprintf(f, "pipe:[%llu] other end: ", (unsigned long long)fe->pipe->pipe_ino);
		if (fe->pipe->has_peer_file_id)
			put_holders(f, v, fe->pipe->peer_file_id);
		else
			fputs("closed", f);
		if (fe->pipe->has_data_len && fe->pipe->data_len)
			fprintf(f, " (%llu bytes queued)", (unsigned long long)fe->pipe->data_len);
		return;
	case FD_KIND__FD_UNIX_SK:
		if (fe->unix_sk)
			put_unix(f, v, fe->unix_sk);
		return;
	case FD_KIND__FD_INET_SK:
		if (fe->inet)
			put_inet(f, fe->inet);
		return;
	case FD_KIND__FD_NETLINK_SK:
		if (fe->netlink)
			fprintf(f, "netlink protocol %u port %u%s", fe->netlink->protocol,
				fe->netlink->has_portid ? fe->netlink->portid : 0,
				fe->netlink->has_portid ? "" : " (unbound)");
		return;
	case FD_KIND__FD_MEMFD:
		if (fe->memfd)
			fprintf(f, "memfd:%s", fe->memfd->name);
		return;
	case FD_KIND__FD_EXTERNAL:
		fprintf(f, "external %s", fe->external ? fe->external : "?");
		/* A pipe end whose other end is outside the tree. */
		if (fe->pipe && fe->pipe->has_data_len && fe->pipe->data_len)
			fprintf(f, " (%llu bytes queued)", (unsigned long long)fe->pipe->data_len);
		return;
	case FD_KIND__FD_EPOLL:
		fputs("epoll", f);
		for (size_t i = 0; fe->epoll && i < fe->epoll->n_tfds; i++)
			fprintf(f, "%s%d", i ? "," : " watching fds ", fe->epoll->tfds[i]->tfd);
		return;
	case FD_KIND__FD_PIDFD:
		if (fe->pidfd)
			fprintf(f, "pidfd of %s %d", fe->pidfd->thread ? "thread" : "task", fe->pidfd->pid);
		return;
	default:
		break;
	}
	if (fe->path)
		fputs(fe->path, f);
	else
		fputs(fd_kind_name(fe->kind), f);
	if (fe->ghost)
		fputs(" (deleted)", f);
	if (fe->kind == FD_KIND__FD_FIFO && fe->pipe)
		fprintf(f, " fifo:[%llu]", (unsigned long long)fe->pipe->pipe_ino);
}

static int fd_row(struct table *tb, const struct fdview *v, const struct task *t, const FdEntry *fd)
{
	const FileEntry *fe = find_file(v, fd->file_id);
	char flags[256], *cells[5];
	struct text obj;
	int ret;

	if (!fe) {
		pr_err("%s: fd %d of task %d names file %u, which files.img lacks",
		       v->s->dir, fd->fd, t->ps->pid, fd->file_id);
		return -EBADMSG;
	}
	ret = text_open(&obj);
	if (ret)
		return ret;
	put_object(obj.f, v, fe);
	views_open_flags(fe->flags, fd->cloexec, flags, sizeof(flags));
	cells[0] = fmt("%d", fd->fd);
	cells[1] = strdup(fd_kind_name(fe->kind));
	cells[2] = strdup(flags);
	cells[3] = fe->has_pos ? fmt("%llu", (unsigned long long)fe->pos) : strdup("-");
	cells[4] = text_close(&obj);
	for (char *p = cells[1]; p && *p; p++)
		*p = *p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p;
	return table_add(tb, cells);
}

static int fds_task(FILE *out, const struct fdview *v, long ti)
{
	const struct task *t = &v->s->tr.t[ti];
	const struct msgs *fds = &v->fds[ti];
	struct table tb = { .align = "rllrl", .ncols = 5 };
	char *head[5] = { strdup("FD"), strdup("KIND"), strdup("FLAGS"), strdup("POS"),
			  strdup("OBJECT") };
	int ret = table_add(&tb, head);

	for (size_t i = 0; i < fds->n && !ret; i++)
		ret = fd_row(&tb, v, t, (const FdEntry *)fds->m[i]);
	if (!ret && task_is_zombie(t)) {
		task_header(out, t, ": zombie, no files");
	} else if (!ret) {
		task_header(out, t, fds->n ? "" : ": no fds");
		if (fds->n)
			table_print(out, &tb, 2);
	}
	table_free(&tb);
	return ret;
}

/* Runs one view: each task's block (in show's order) through task_fn into
 * memory, printed once all are done. */
static int run_view(const struct imgset *s, const void *arg,
		    int (*task_fn)(FILE *out, const void *arg, long ti))
{
	struct text tx;
	char *buf;
	int ret;

	ret = text_open(&tx);
	for (size_t i = 0; i < s->tr.nr && !ret; i++) {
		if (i)
			fputc('\n', tx.f);
		ret = task_fn(tx.f, arg, s->order[i]);
	}
	if (ret == -ENOMEM)
		pr_err("%s: %s", s->dir, errstr(ret));
	if (!tx.f)
		return ret;
	buf = text_close(&tx);
	if (!ret && !buf) {
		ret = -ENOMEM;
		pr_err("%s: %s", s->dir, errstr(ret));
	}
	if (!ret)
		fwrite(buf, 1, tx.len, stdout);
	free(buf);
	return ret;
}

static int fds_task_fn(FILE *out, const void *arg, long ti)
{
	return fds_task(out, arg, ti);
}

static int fds_fn(const struct imgset *s, bool json)
{
	struct fdview v;
	int ret;

	(void)json;
	ret = fdview_load(s, &v);
	if (!ret)
		ret = run_view(s, &v, fds_task_fn);
	fdview_free(&v);
	return ret;
}

int views_fds(int argc, char **argv)
{
	return view_main(argc, argv, false, fds_fn);
}

/* ---- mems ---- */

struct mem_totals {
	uint64_t vmas, pages, dumped, shmem_dumped;
};

static const char *vma_what(const VmaEntry *vma)
{
	if (vma->path)
		return vma->path;
	return vma->kind == VMA_KIND__VMA_ANON_PRIVATE ? "[anon]" : "?";
}

static int vma_row(const struct imgset *s, struct table *tb, const struct msgs *pagemap,
		   const VmaEntry *vma, struct mem_totals *tot)
{
	uint64_t pages = (vma->end - vma->start) / VIEWS_PAGE_SIZE, dumped;
	struct msgs shm = { 0 };
	char prot[4], *cells[8];
	bool shared = vma->flags & MAP_SHARED;
	int ret;

	if (vma->end < vma->start) {
		pr_err("%s: VMA %llx-%llx ends before it starts", s->dir,
		       (unsigned long long)vma->start, (unsigned long long)vma->end);
		return -EBADMSG;
	}
	if (vma->kind == VMA_KIND__VMA_ANON_SHARED) {
		/* Shared anonymous memory is dumped once, by object, at its
		 * offsets: pgoff is where this VMA starts in it. */
		uint64_t off = vma->has_pgoff ? vma->pgoff : 0;

		ret = read_entries(s, IMG_SHMEM, vma->ino, &shm);
		if (ret)
			return ret;
		dumped = views_run_pages((PagemapEntry *const *)shm.m, shm.n, off,
					 off + (vma->end - vma->start));
		msgs_free(&shm);
		tot->shmem_dumped += dumped;
	} else {
		dumped = views_run_pages((PagemapEntry *const *)pagemap->m, pagemap->n,
					 vma->start, vma->end);
		tot->dumped += dumped;
	}
	tot->vmas++;
	tot->pages += pages;
	views_prot(vma->prot, prot);
	cells[0] = fmt("%llx-%llx", (unsigned long long)vma->start, (unsigned long long)vma->end);
	cells[1] = fmt("%llu", (unsigned long long)(pages * VIEWS_PAGE_SIZE / 1024));
	cells[2] = strdup(prot);
	cells[3] = strdup(shared ? "shared" : "private");
	cells[4] = fmt("%llu", (unsigned long long)pages);
	cells[5] = fmt("%llu", (unsigned long long)dumped);
	cells[6] = fmt("%llu", (unsigned long long)(pages - dumped));
	cells[7] = vma->kind == VMA_KIND__VMA_ANON_SHARED ?
		   fmt("%s (pages in shmem-%llu.img)", vma_what(vma), (unsigned long long)vma->ino) :
		   strdup(vma_what(vma));
	return table_add(tb, cells);
}

/* The pages image must hold exactly the pages the pagemap lists, and
 * every listed page must belong to a VMA; say so when not. */
static int mems_check(const struct imgset *s, int pid, const struct msgs *pagemap,
		      const struct mem_totals *tot)
{
	uint64_t listed = views_run_pages((PagemapEntry *const *)pagemap->m, pagemap->n, 0,
					  UINT64_MAX), size;
	int fd, ret;

	ret = img_raw_open(s->dirfd, IMG_PAGES, pid, &fd, &size);
	if (ret)
		return ret;
	close(fd);
	if (size != listed * VIEWS_PAGE_SIZE)
		pr_warn("%s: pages-%d.img holds %llu bytes, pagemap-%d.img lists %llu pages",
			s->dir, pid, (unsigned long long)size, pid, (unsigned long long)listed);
	if (listed > tot->dumped)
		pr_warn("%s: pagemap-%d.img lists %llu pages outside every VMA", s->dir, pid,
			(unsigned long long)(listed - tot->dumped));
	return 0;
}

static int mems_task(FILE *out, const void *arg, long ti)
{
	const struct imgset *s = arg;
	const struct task *t = &s->tr.t[ti];
	struct table tb = { .align = "lrllrrrl", .ncols = 8 };
	char *head[8] = { strdup("START-END"), strdup("KIB"), strdup("PROT"), strdup("MAP"),
			  strdup("PAGES"), strdup("DUMPED"), strdup("NOT-DUMPED"), strdup("WHAT") };
	struct mem_totals tot = { 0 };
	struct msgs pagemap = { 0 };
	ProtobufCMessage *msg = NULL;
	const MmEntry *mm;
	int ret = table_add(&tb, head);

	if (!ret && task_is_zombie(t)) {
		task_header(out, t, ": zombie, no memory");
		goto out;
	}
	if (!ret)
		ret = img_read_one(s->dirfd, IMG_MM, t->ps->pid, &msg);
	if (!ret)
		ret = read_entries(s, IMG_PAGEMAP, t->ps->pid, &pagemap);
	mm = (const MmEntry *)msg;
	for (size_t i = 0; !ret && i < mm->n_vmas; i++)
		ret = vma_row(s, &tb, &pagemap, mm->vmas[i], &tot);
	if (!ret)
		ret = mems_check(s, t->ps->pid, &pagemap, &tot);
	if (ret)
		goto out;
	task_header(out, t, "");
	table_print(out, &tb, 2);
	fprintf(out, "  total: %llu VMAs, %llu KiB in %llu pages; %llu pages (%llu bytes) "
		"dumped in pages-%d.img, %llu in shmem images; %llu pages not dumped\n",
		(unsigned long long)tot.vmas,
		(unsigned long long)(tot.pages * VIEWS_PAGE_SIZE / 1024),
		(unsigned long long)tot.pages, (unsigned long long)tot.dumped,
		(unsigned long long)(tot.dumped * VIEWS_PAGE_SIZE), t->ps->pid,
		(unsigned long long)tot.shmem_dumped,
		(unsigned long long)(tot.pages - tot.dumped - tot.shmem_dumped));
out:
	table_free(&tb);
	msgs_free(&pagemap);
	if (msg)
		protobuf_c_message_free_unpacked(msg, NULL);
	return ret;
}

static int mems_fn(const struct imgset *s, bool json)
{
	(void)json;
	return run_view(s, s, mems_task);
}

int views_mems(int argc, char **argv)
{
	return view_main(argc, argv, false, mems_fn);
}
