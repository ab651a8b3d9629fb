/* minicr-decode: look into and edit image files.
 *
 *   decode FILE [--pretty]   image -> JSON on stdout
 *   encode JSON -o FILE      JSON (a file or "-") -> image, byte-identical
 *                            to the one it was decoded from
 *   show DIR [--json]        the dumped tree, like ps
 *   fds DIR                  every task's file descriptors
 *   mems DIR                 every task's mappings and where their pages are
 *   info FILE                "<type> <N> entries"
 *   verify DIR               every file of the set against inventory.img
 *   seal DIR                 list the files now in DIR in inventory.img
 *                            (after a deliberate edit)
 *
 * decode, encode, info, verify and seal are driven by img_types[] and the protobuf-c
 * descriptors, so a new image type needs no code here; the views of a
 * whole image set (show, fds, mems) are in views.c. Exit status: 0 ok,
 * 1 bad input (the message names the file and byte offset), 2 usage. */
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

#include "image.h"
#include "imgset.h"
#include "imgtypes.h"
#include "log.h"
#include "pbjson.h"
#include "util.h"
#include "views.h"

/* JSON spells bytes as hex and adds keys, so allow well over IMG_MAX_FILE. */
#define JSON_MAX ((size_t)IMG_MAX_FILE * 4)

/* One help text per command, printed by "minicr-decode CMD --help" and
 * after a usage error of that command; usage() lists them all. */
static const char decode_help[] =
	"usage: minicr-decode decode FILE [--pretty]\n"
	"  print the image FILE as JSON (field names from the .proto schemas)\n"
	"  --pretty    indented, one field a line\n";
static const char encode_help[] =
	"usage: minicr-decode encode JSON -o FILE\n"
	"  turn JSON from decode (a file, or - for stdin) back into the image FILE;\n"
	"  decode then encode gives a byte-identical file\n"
	"  -o FILE     the image to write\n";
static const char show_help[] =
	"usage: minicr-decode show DIR [--json]\n"
	"  the tree dumped into DIR like ps: PID PPID PGID SID STATE THREADS COMMAND\n"
	"  --json      the same as JSON, children nested in their parent\n";
static const char fds_help[] =
	"usage: minicr-decode fds DIR\n"
	"  per task of DIR: each fd, its kind, O_* flags, position and what it is\n"
	"  open on (path, pipe or socket with the task and fd of the other end)\n";
static const char mems_help[] =
	"usage: minicr-decode mems DIR\n"
	"  per task of DIR: each mapping, its size, protection, backing, and how\n"
	"  many of its pages are in the images and how many not\n";
static const char info_help[] =
	"usage: minicr-decode info FILE\n"
	"  the image type of FILE and its number of entries\n";
static const char verify_help[] =
	"usage: minicr-decode verify DIR\n"
	"  every file of the set DIR against the sizes and checksums inventory.img\n"
	"  lists (one line per file, then the verdict); exit 1 if one does not match\n";
static const char seal_help[] =
	"usage: minicr-decode seal DIR\n"
	"  list the files now in DIR, with their sizes and checksums, in its\n"
	"  inventory.img (after a deliberate edit of an image)\n";

static void usage(FILE *f)
{
	fprintf(f, "%s%s%s%s%s%s%s%s"
		"minicr-decode COMMAND --help: that command only\n",
		decode_help, encode_help, show_help, fds_help, mems_help, info_help, verify_help,
		seal_help);
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
		const char *help;
	} cmds[] = {
		{ "decode", cmd_decode, decode_help },
		{ "encode", cmd_encode, encode_help },
		{ "show", views_show, show_help },
		{ "fds", views_fds, fds_help },
		{ "mems", views_mems, mems_help },
		{ "info", cmd_info, info_help },
		{ "verify", cmd_verify, verify_help },
		{ "seal", cmd_seal, seal_help },
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
		if (argc == 3 && (!strcmp(argv[2], "-h") || !strcmp(argv[2], "--help"))) {
			fputs(cmds[i].help, stdout);
			return 0;
		}
		ret = cmds[i].fn(argc - 2, argv + 2);
		if (ret == EXIT_USAGE)
			fputs(cmds[i].help, stderr);
		return ret;
	}
	usage(stderr);
	return EXIT_USAGE;
}
