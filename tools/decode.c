/* minicr-decode: look into and edit image files.
 *
 *   decode FILE [--pretty]   image -> JSON on stdout
 *   encode JSON -o FILE      JSON (a file or "-") -> image, byte-identical
 *                            to the one it was decoded from
 *   show DIR                 the dumped tree, like ps
 *   info FILE                "<type> <N> entries"
 *   verify DIR               every file of the set against inventory.img
 *   seal DIR                 list the files now in DIR in inventory.img
 *                            (after a deliberate edit)
 *
 * Everything is driven by img_types[] and the protobuf-c descriptors, so a
 * new image type needs no code here. Exit status: 0 ok, 1 bad input (the
 * message names the file and byte offset), 2 usage. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.pb-c.h"
#include "image.h"
#include "imgtypes.h"
#include "log.h"
#include "pbjson.h"
#include "pstree.pb-c.h"
#include "util.h"

#define EXIT_USAGE 2
/* JSON spells bytes as hex and adds keys, so allow well over IMG_MAX_FILE. */
#define JSON_MAX ((size_t)IMG_MAX_FILE * 4)

static void usage(FILE *f)
{
	fprintf(f,
		"usage: minicr-decode decode FILE [--pretty]\n"
		"       minicr-decode encode JSON -o FILE    (JSON may be - for stdin)\n"
		"       minicr-decode show DIR\n"
		"       minicr-decode info FILE\n"
		"       minicr-decode verify DIR\n"
		"       minicr-decode seal DIR\n");
}

/* A full disk or closed pipe must not look like success. */
static int flush_stdout(void)
{
	if (fflush(stdout) || ferror(stdout)) {
		pr_err("cannot write to stdout: %s", strerror(errno));
		return -EIO;
	}
	return 0;
}

/* ---- opening images ---- */

struct image {
	const struct img_type *type;
	struct img_reader r;        /* loaded unless the type is raw */
	uint64_t raw_bytes;         /* payload size of a raw image */
};

/* Raw images (page data) can be far larger than the reader loads, so look
 * at the magic alone first. A short file or unknown magic is left to
 * img_reader_open(), which reports it. */
static const struct img_type *peek_raw_type(const char *path, uint64_t *payload)
{
	const struct img_type *t = NULL;
	uint8_t hdr[IMG_HDR_SIZE];
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (read_all(fd, hdr, sizeof(hdr)) == (ssize_t)sizeof(hdr) && !fstat(fd, &st)) {
		t = img_type_by_magic(img_get_u32(hdr));
		if (t && t->desc)
			t = NULL;
		else if (t)
			*payload = (uint64_t)st.st_size - IMG_HDR_SIZE;
	}
	close(fd);
	return t;
}

static int image_open(const char *path, struct image *img)
{
	memset(img, 0, sizeof(*img));
	img->type = peek_raw_type(path, &img->raw_bytes);
	if (img->type)
		return 0;
	if (img_reader_open(AT_FDCWD, path, NULL, &img->r))
		return -EBADMSG;
	img->type = img->r.type;
	return 0;
}

static void image_close(struct image *img)
{
	if (img->type && img->type->desc)
		img_reader_close(&img->r);
}

/* Unknown fields or a non-canonical encoding cannot be reproduced by
 * encode; say so rather than silently producing a different file. */
static void check_reproducible(const struct img_reader *r, size_t off,
			       const ProtobufCMessage *msg, bool unknown)
{
	const uint8_t *entry = r->buf + off + IMG_LEN_SIZE;
	size_t len = img_get_u32(r->buf + off);
	size_t packed = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf;

	if (unknown) {
		pr_warn("%s: entry at offset %zu has fields this %s schema does not know; "
			"they are not in the JSON", r->path, off, r->type->name);
		return;
	}
	buf = packed == len ? malloc(len ? len : 1) : NULL;
	if (buf)
		protobuf_c_message_pack(msg, buf);
	if (packed != len || (buf && memcmp(buf, entry, len)))
		pr_warn("%s: entry at offset %zu is not in canonical protobuf-c form; "
			"encode will not reproduce it byte for byte", r->path, off);
	free(buf);
}

/* ---- decode ---- */

static int add_str(struct json_object *o, const char *key, const char *val)
{
	struct json_object *v = json_object_new_string(val);

	if (!v || json_object_object_add(o, key, v)) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static int entries_to_json(struct img_reader *r, struct json_object *arr)
{
	ProtobufCMessage *msg;
	struct json_object *j;
	size_t off;
	int ret;

	for (;;) {
		off = r->cur.off;
		ret = img_reader_next(r, &msg);
		if (ret <= 0)
			return ret;
		ret = pbjson_from_msg(msg, &j);
		if (ret == -EPROTO || !ret)
			check_reproducible(r, off, msg, ret == -EPROTO);
		protobuf_c_message_free_unpacked(msg, NULL);
		if (ret && ret != -EPROTO)
			return ret;
		if (json_object_array_add(arr, j)) {
			json_object_put(j);
			return -ENOMEM;
		}
	}
}

static int image_to_json(struct image *img, struct json_object **out)
{
	struct json_object *root, *arr = NULL;
	char magic[16];
	int ret = -ENOMEM;

	root = json_object_new_object();
	if (!root)
		return -ENOMEM;
	snprintf(magic, sizeof(magic), "0x%08x", img->type->magic);
	if (add_str(root, "type", img->type->name) || add_str(root, "magic", magic))
		goto err;
	if (!img->type->desc) {
		struct json_object *n = json_object_new_uint64(img->raw_bytes);

		if (!n || json_object_object_add(root, "raw_bytes", n)) {
			json_object_put(n);
			goto err;
		}
		*out = root;
		return 0;
	}
	arr = json_object_new_array();
	if (!arr || json_object_object_add(root, "entries", arr)) {
		json_object_put(arr);
		goto err;
	}
	ret = entries_to_json(&img->r, arr);
	if (ret)
		goto err;
	*out = root;
	return 0;
err:
	json_object_put(root);
	return ret;
}

static int cmd_decode(int argc, char **argv)
{
	const char *path = NULL;
	struct json_object *root = NULL;
	bool pretty = false;
	struct image img;
	int flags, ret;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--pretty"))
			pretty = true;
		else if (!path && argv[i][0] && (argv[i][0] != '-' || !argv[i][1]))
			path = argv[i];
		else
			return EXIT_USAGE;
	}
	if (!path)
		return EXIT_USAGE;
	if (image_open(path, &img))
		return 1;
	ret = image_to_json(&img, &root);
	image_close(&img);
	if (ret) {
		if (ret == -ENOMEM)
			pr_err("%s: %s", path, errstr(ret));
		return 1;
	}
	flags = JSON_C_TO_STRING_NOSLASHESCAPE |
		(pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN);
	printf("%s\n", json_object_to_json_string_ext(root, flags));
	json_object_put(root);
	return flush_stdout() ? 1 : 0;
}

/* ---- encode ---- */

static int read_stdin(char **buf, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *b = malloc(cap), *nb;
	ssize_t r;

	if (!b)
		return -ENOMEM;
	for (;;) {
		if (n == cap) {
			if (cap > JSON_MAX) {
				free(b);
				return -EFBIG;
			}
			cap *= 2;
			nb = realloc(b, cap);
			if (!nb) {
				free(b);
				return -ENOMEM;
			}
			b = nb;
		}
		r = read_all(STDIN_FILENO, b + n, cap - n);
		if (r < 0) {
			free(b);
			return (int)r;
		}
		if (r == 0)
			break;
		n += r;
	}
	*buf = b;
	*len = n;
	return 0;
}

struct outbuf {
	uint8_t *p;
	size_t len, cap;
};

static int outbuf_reserve(struct outbuf *o, size_t more)
{
	size_t cap = o->cap ? o->cap : 4096;
	uint8_t *np;

	if (more > IMG_MAX_FILE - o->len)
		return -EFBIG;
	while (cap < o->len + more)
		cap *= 2;
	if (cap == o->cap)
		return 0;
	np = realloc(o->p, cap);
	if (!np)
		return -ENOMEM;
	o->p = np;
	o->cap = cap;
	return 0;
}

/* Frame one message exactly as img_writer_put() does. */
static int outbuf_put_msg(struct outbuf *o, const ProtobufCMessage *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	int ret;

	if (len > IMG_MAX_ENTRY)
		return -EFBIG;
	ret = outbuf_reserve(o, IMG_LEN_SIZE + len);
	if (ret)
		return ret;
	img_put_u32(o->p + o->len, len);
	protobuf_c_message_pack(msg, o->p + o->len + IMG_LEN_SIZE);
	o->len += IMG_LEN_SIZE + len;
	return 0;
}

static const struct img_type *json_img_type(const char *src, struct json_object *root)
{
	struct json_object *v, *m;
	const struct img_type *t;
	char want[16];

	if (!json_object_object_get_ex(root, "type", &v) || !json_object_is_type(v, json_type_string)) {
		pr_err("%s: \"type\" must be a string naming the image type", src);
		return NULL;
	}
	t = img_type_by_name(json_object_get_string(v));
	if (!t) {
		pr_err("%s: type: unknown image type \"%s\"", src, json_object_get_string(v));
		return NULL;
	}
	if (json_object_object_get_ex(root, "magic", &m)) {
		snprintf(want, sizeof(want), "0x%08x", t->magic);
		if (!json_object_is_type(m, json_type_string) ||
		    strcasecmp(json_object_get_string(m), want)) {
			pr_err("%s: magic: %s does not match type %s (%s)", src,
			       json_object_get_string(m), t->name, want);
			return NULL;
		}
	}
	if (!t->desc) {
		pr_err("%s: %s images hold raw data and cannot be encoded from JSON", src, t->name);
		return NULL;
	}
	return t;
}

static int check_top_keys(const char *src, struct json_object *root)
{
	json_object_object_foreach(root, key, val) {
		(void)val;
		if (strcmp(key, "type") && strcmp(key, "magic") && strcmp(key, "entries")) {
			pr_err("%s: %s: unknown key (expected type, magic, entries)", src, key);
			return -EINVAL;
		}
	}
	return 0;
}

static int json_to_image(const char *src, struct json_object *root, struct outbuf *o)
{
	const struct img_type *t;
	struct json_object *entries;
	ProtobufCMessage *msg;
	char where[32], err[512];
	int ret;

	if (!json_object_is_type(root, json_type_object)) {
		pr_err("%s: expected a JSON object", src);
		return -EINVAL;
	}
	t = json_img_type(src, root);
	if (!t || check_top_keys(src, root))
		return -EINVAL;
	if (!json_object_object_get_ex(root, "entries", &entries) ||
	    !json_object_is_type(entries, json_type_array)) {
		pr_err("%s: \"entries\" must be an array", src);
		return -EINVAL;
	}
	ret = outbuf_reserve(o, IMG_HDR_SIZE);
	if (ret) {
		pr_err("%s: %s", src, errstr(ret));
		return ret;
	}
	img_put_u32(o->p, t->magic);
	o->len = IMG_HDR_SIZE;
	for (size_t i = 0; i < json_object_array_length(entries); i++) {
		snprintf(where, sizeof(where), "entries[%zu]", i);
		ret = pbjson_to_msg(t->desc, json_object_array_get_idx(entries, i), where,
				    &msg, err, sizeof(err));
		if (ret) {
			pr_err("%s: %s", src, err);
			return ret;
		}
		ret = outbuf_put_msg(o, msg);
		protobuf_c_message_free_unpacked(msg, NULL);
		if (ret) {
			pr_err("%s: %s: %s", src, where, errstr(ret));
			return ret;
		}
	}
	return 0;
}

/* Same discipline as img_writer_commit(): the final name appears only once
 * the data is on disk. */
static int write_image_file(const char *path, const struct outbuf *o)
{
	char tmp[PATH_MAX];
	int fd, ret;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	ret = write_all(fd, o->p, o->len);
	if (!ret && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

static int cmd_encode(int argc, char **argv)
{
	const char *src = NULL, *dst = NULL;
	struct json_object *root = NULL;
	struct outbuf o = { 0 };
	char *text = NULL, err[256];
	size_t len;
	int ret;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc && !dst)
			dst = argv[++i];
		else if (!src && argv[i][0] && (argv[i][0] != '-' || !argv[i][1]))
			src = argv[i];
		else
			return EXIT_USAGE;
	}
	if (!src || !dst)
		return EXIT_USAGE;
	ret = strcmp(src, "-") ? read_file(src, JSON_MAX, &text, &len) : read_stdin(&text, &len);
	if (ret) {
		pr_err("%s: cannot read: %s", src, errstr(ret));
		goto out;
	}
	ret = pbjson_parse(text, len, &root, err, sizeof(err));
	if (ret) {
		if (ret == -EINVAL)
			pr_err("%s: invalid JSON at %s", src, err);
		else
			pr_err("%s: %s", src, errstr(ret));
		goto out;
	}
	ret = json_to_image(src, root, &o);
	if (ret)
		goto out;
	ret = write_image_file(dst, &o);
	if (ret)
		pr_err("%s: cannot write image: %s", dst, errstr(ret));
out:
	json_object_put(root);
	free(text);
	free(o.p);
	return ret ? 1 : 0;
}

/* ---- info ---- */

static int cmd_info(int argc, char **argv)
{
	ProtobufCMessage *msg;
	struct image img;
	size_t n = 0;
	int ret;

	if (argc != 1)
		return EXIT_USAGE;
	if (image_open(argv[0], &img))
		return 1;
	if (!img.type->desc) {
		printf("%s raw %llu bytes\n", img.type->name, (unsigned long long)img.raw_bytes);
		image_close(&img);
		return 0;
	}
	/* Unpack every entry: info doubles as a validity check. */
	while ((ret = img_reader_next(&img.r, &msg)) > 0) {
		protobuf_c_message_free_unpacked(msg, NULL);
		n++;
	}
	image_close(&img);
	if (ret < 0)
		return 1;
	printf("%s %zu entries\n", img.type->name, n);
	return flush_stdout() ? 1 : 0;
}

/* ---- show ---- */

struct task {
	PstreeEntry *ps;
	CoreEntry *core;        /* read once the tree is known to be sound */
	long parent;            /* index in tasks[], -1 for a root */
	long first_child, last_child, next_sibling;
	int depth;
};

struct tree {
	struct task *t;
	size_t nr;
	long *by_pid;           /* indices sorted by pid, for lookups */
};

static struct tree *cmp_tree;   /* qsort has no context argument */

static int cmp_pid(const void *a, const void *b)
{
	int pa = cmp_tree->t[*(const long *)a].ps->pid, pb = cmp_tree->t[*(const long *)b].ps->pid;

	return (pa > pb) - (pa < pb);
}

static long find_pid(const struct tree *tr, int pid)
{
	size_t lo = 0, hi = tr->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int p = tr->t[tr->by_pid[mid]].ps->pid;

		if (p == pid)
			return tr->by_pid[mid];
		if (p < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static void tree_free(struct tree *tr)
{
	for (size_t i = 0; i < tr->nr; i++) {
		protobuf_c_message_free_unpacked(&tr->t[i].ps->base, NULL);
		if (tr->t[i].core)
			protobuf_c_message_free_unpacked(&tr->t[i].core->base, NULL);
	}
	free(tr->t);
	free(tr->by_pid);
}

static int tree_load(const char *path, struct tree *tr)
{
	struct img_reader r;
	ProtobufCMessage *msg;
	size_t cap = 0;
	struct task *nt;
	int ret;

	if (img_reader_open(AT_FDCWD, path, &img_types[IMG_PSTREE], &r))
		return -EBADMSG;
	while ((ret = img_reader_next(&r, &msg)) > 0) {
		if (tr->nr == cap) {
			cap = cap ? cap * 2 : 64;
			nt = realloc(tr->t, cap * sizeof(*nt));
			if (!nt) {
				protobuf_c_message_free_unpacked(msg, NULL);
				ret = -ENOMEM;
				break;
			}
			tr->t = nt;
		}
		tr->t[tr->nr++] = (struct task){ .ps = (PstreeEntry *)msg, .core = NULL, .parent = -1,
						 .first_child = -1, .last_child = -1,
						 .next_sibling = -1 };
	}
	img_reader_close(&r);
	return ret;
}

/* Link children to parents, keeping pstree.img order among siblings. */
static int tree_link(const char *path, struct tree *tr)
{
	tr->by_pid = malloc((tr->nr ? tr->nr : 1) * sizeof(long));
	if (!tr->by_pid)
		return -ENOMEM;
	for (size_t i = 0; i < tr->nr; i++)
		tr->by_pid[i] = i;
	cmp_tree = tr;
	qsort(tr->by_pid, tr->nr, sizeof(long), cmp_pid);
	for (size_t i = 1; i < tr->nr; i++) {
		if (tr->t[tr->by_pid[i]].ps->pid == tr->t[tr->by_pid[i - 1]].ps->pid) {
			pr_err("%s: PID %d appears twice", path, tr->t[tr->by_pid[i]].ps->pid);
			return -EBADMSG;
		}
	}
	for (size_t i = 0; i < tr->nr; i++) {
		struct task *t = &tr->t[i];
		long p = t->ps->ppid == t->ps->pid ? -1 : find_pid(tr, t->ps->ppid);

		t->parent = p;
		if (p < 0)
			continue;
		if (tr->t[p].last_child >= 0)
			tr->t[tr->t[p].last_child].next_sibling = i;
		else
			tr->t[p].first_child = i;
		tr->t[p].last_child = i;
	}
	return 0;
}

static char state_letter(int state)
{
	switch (state) {
	case TASK_STATE__TASK_RUNNING:  return 'R';
	case TASK_STATE__TASK_SLEEPING: return 'S';
	case TASK_STATE__TASK_STOPPED:  return 'T';
	case TASK_STATE__TASK_ZOMBIE:   return 'Z';
	}
	return '?';
}

static int read_core(const char *dir, int pid, CoreEntry **core)
{
	char name[NAME_MAX + 1], path[PATH_MAX];
	ProtobufCMessage *msg, *extra;
	struct img_reader r;
	int ret;

	img_file_name(IMG_CORE, pid, name, sizeof(name));
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if (img_reader_open(AT_FDCWD, path, &img_types[IMG_CORE], &r))
		return -EBADMSG;
	ret = img_reader_next(&r, &msg);
	if (ret == 0)
		pr_err("%s: image has no entry", path);
	if (ret > 0 && img_reader_next(&r, &extra) != 0) {
		pr_err("%s: image has more than one entry", path);
		protobuf_c_message_free_unpacked(msg, NULL);
		ret = -EBADMSG;
	}
	img_reader_close(&r);
	if (ret <= 0)
		return -EBADMSG;
	*core = (CoreEntry *)msg;
	if ((*core)->pid != pid)
		pr_warn("%s: records PID %d", path, (*core)->pid);
	return 0;
}

/* Depth first from each root, iteratively since a corrupt tree may be
 * deep: order[] gets the task indices in print order, depths set. */
static int tree_order(const char *path, struct tree *tr, long *order)
{
	long *stack = malloc((tr->nr ? tr->nr : 1) * sizeof(long));
	size_t sp = 0, n = 0;

	if (!stack)
		return -ENOMEM;
	for (size_t root = 0; root < tr->nr; root++) {
		if (tr->t[root].parent >= 0)
			continue;
		stack[sp++] = root;
		while (sp) {
			long i = stack[--sp];
			size_t first = sp;

			order[n++] = i;
			/* Push children reversed so they pop in image order. */
			for (long c = tr->t[i].first_child; c >= 0; c = tr->t[c].next_sibling) {
				tr->t[c].depth = tr->t[i].depth + 1;
				stack[sp++] = c;
			}
			for (size_t a = first, b = sp; b > a + 1; a++, b--) {
				long tmp = stack[a];

				stack[a] = stack[b - 1];
				stack[b - 1] = tmp;
			}
		}
	}
	free(stack);
	if (n != tr->nr) {
		pr_err("%s: %zu tasks are not reachable from a root (parent cycle)", path, tr->nr - n);
		return -EBADMSG;
	}
	return 0;
}

static void print_task(const struct task *t)
{
	char state[2] = { state_letter(t->core->state), '\0' };

	printf("%7d %7d %7d %7d %-5s %7zu  %*s%s\n", t->ps->pid, t->ps->ppid, t->ps->pgid,
	       t->ps->sid, state, t->ps->n_threads, t->depth * 2, "", t->core->comm);
}

/* Everything is read and checked before the first line is printed, so a
 * bad image set gives an error and no partial table. */
static int tree_print(const char *dir, const char *path, struct tree *tr)
{
	long *order = malloc((tr->nr ? tr->nr : 1) * sizeof(long));
	int ret;

	if (!order)
		return -ENOMEM;
	ret = tree_order(path, tr, order);
	for (size_t i = 0; i < tr->nr && !ret; i++)
		ret = read_core(dir, tr->t[i].ps->pid, &tr->t[i].core);
	if (!ret) {
		printf("%7s %7s %7s %7s %-5s %7s  %s\n",
		       "PID", "PPID", "PGID", "SID", "STATE", "THREADS", "COMMAND");
		for (size_t i = 0; i < tr->nr; i++)
			print_task(&tr->t[order[i]]);
	}
	free(order);
	return ret;
}

static int cmd_show(int argc, char **argv)
{
	char path[PATH_MAX];
	struct tree tr = { 0 };
	struct stat st;
	int ret;

	if (argc != 1)
		return EXIT_USAGE;
	if (stat(argv[0], &st)) {
		pr_err("%s: cannot open image directory: %s", argv[0], strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		pr_err("%s: not a directory", argv[0]);
		return 1;
	}
	if (snprintf(path, sizeof(path), "%s/inventory.img", argv[0]) >= (int)sizeof(path)) {
		pr_err("%s: %s", argv[0], errstr(-ENAMETOOLONG));
		return 1;
	}
	if (stat(path, &st))
		pr_warn("%s: missing; the image set may be incomplete", path);
	snprintf(path, sizeof(path), "%s/pstree.img", argv[0]);
	ret = tree_load(path, &tr);
	if (!ret)
		ret = tree_link(path, &tr);
	if (!ret)
		ret = tree_print(argv[0], path, &tr);
	if (ret == -ENOMEM)
		pr_err("%s: %s", path, errstr(ret));
	tree_free(&tr);
	if (flush_stdout())
		ret = -EIO;
	return ret ? 1 : 0;
}

/* ---- verify, seal ---- */

static int open_set(const char *dir, int *dirfd, InventoryEntry **inv)
{
	int ret;

	*dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd < 0) {
		ret = -errno;
		pr_err("%s: cannot open image directory: %s", dir, errstr(ret));
		return ret;
	}
	/* img_read_one() names the file and the defect. */
	ret = img_read_one(*dirfd, IMG_INVENTORY, 0, (ProtobufCMessage **)inv);
	if (ret) {
		close(*dirfd);
		*dirfd = -1;
	}
	return ret;
}

struct verify_count {
	size_t ok, bad;
};

static void print_check(const struct img_check *ck, void *arg)
{
	struct verify_count *n = arg;
	char what[160];

	img_check_describe(ck, what, sizeof(what));
	printf("%-4s %s: %s\n", ck->verdict == IMG_V_OK ? "ok" : "BAD", ck->name, what);
	if (ck->verdict == IMG_V_OK)
		n->ok++;
	else
		n->bad++;
}

static int verify_set(const char *dir, int dirfd, InventoryEntry *inv)
{
	struct verify_count n = { 0 };
	int ret;

	if (!inv->n_files) {
		printf("unverified: %s/inventory.img lists no checksums (written by an older minicr)\n",
		       dir);
		return 0;
	}
	ret = img_verify_set(dirfd, inv, print_check, &n);
	if (ret == -EBADMSG)
		printf("FAILED: %zu file%s of %s do%s not match inventory.img\n", n.bad,
		       n.bad == 1 ? "" : "s", dir, n.bad == 1 ? "es" : "");
	else if (!ret)
		printf("verified: all %zu files of %s match inventory.img\n", n.ok, dir);
	return ret;
}

/* Lists every file of the set now in the directory, so a deliberately
 * edited set (minicr-decode encode) passes the checks again. */
static int seal_list(int dirfd, const char *dir, struct img_out *found)
{
	struct dirent *de;
	DIR *d;
	int fd, ret = 0;

	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		ret = -errno;
		if (fd >= 0)
			close(fd);
		pr_err("%s: cannot list: %s", dir, errstr(ret));
		return ret;
	}
	while (!ret && (de = readdir(d))) {
		uint64_t size, sum;

		if (!img_name_in_set(de->d_name))
			continue;
		ret = img_file_sum(dirfd, de->d_name, &size, &sum);
		if (ret)
			pr_err("%s/%s: cannot read: %s", dir, de->d_name, errstr(ret));
		else
			ret = img_out_add(found, de->d_name, size, sum);
	}
	closedir(d);
	return ret;
}

static int seal_set(const char *dir, int dirfd, InventoryEntry *inv)
{
	ImageFileEntry **old = inv->files;
	size_t n_old = inv->n_files;
	struct img_out found, out;
	int ret;

	img_out_init(&found, dirfd);
	img_out_init(&out, dirfd);
	ret = seal_list(dirfd, dir, &found);
	/* The unpacked list belongs to protobuf-c's allocator: set aside. */
	if (!ret)
		ret = img_out_list(&found, inv);
	if (!ret)
		ret = img_write_one(&out, IMG_INVENTORY, 0, &inv->base);   /* logs */
	if (!ret)
		printf("sealed: inventory.img of %s lists %zu files\n", dir, found.nr_sums);
	img_out_unlist(inv);
	inv->files = old;
	inv->n_files = n_old;
	img_out_fini(&found);
	img_out_fini(&out);
	return ret;
}

/* verify DIR, seal DIR: fn on the set of DIR and its inventory. */
static int with_set(int argc, char **argv,
		    int (*fn)(const char *dir, int dirfd, InventoryEntry *inv))
{
	InventoryEntry *inv = NULL;
	int dirfd, ret;

	if (argc != 1)
		return EXIT_USAGE;
	if (open_set(argv[0], &dirfd, &inv))
		return 1;
	ret = fn(argv[0], dirfd, inv);
	protobuf_c_message_free_unpacked(&inv->base, NULL);
	close(dirfd);
	if (flush_stdout())
		ret = -EIO;
	return ret ? 1 : 0;
}

static int cmd_verify(int argc, char **argv)
{
	return with_set(argc, argv, verify_set);
}

static int cmd_seal(int argc, char **argv)
{
	return with_set(argc, argv, seal_set);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} cmds[] = {
		{ "decode", cmd_decode },
		{ "encode", cmd_encode },
		{ "show", cmd_show },
		{ "info", cmd_info },
		{ "verify", cmd_verify },
		{ "seal", cmd_seal },
	};
	int ret;

	log_init("minicr-decode", 0);
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; argc >= 2 && i < ARRAY_SIZE(cmds); i++) {
		if (strcmp(argv[1], cmds[i].name))
			continue;
		ret = cmds[i].fn(argc - 2, argv + 2);
		if (ret == EXIT_USAGE)
			usage(stderr);
		return ret;
	}
	usage(stderr);
	return EXIT_USAGE;
}
