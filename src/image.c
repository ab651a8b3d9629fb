#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "stream.h"
#include "util.h"

int img_cursor_init(struct img_cursor *c, const uint8_t *buf, size_t len, uint32_t *magic)
{
	c->buf = buf;
	c->len = len;
	c->off = 0;
	c->err = NULL;
	if (len < IMG_HDR_SIZE) {
		c->err = "file shorter than the 4-byte magic";
		return -EBADMSG;
	}
	*magic = img_get_u32(buf);
	c->off = IMG_HDR_SIZE;
	return 0;
}

int img_cursor_next(struct img_cursor *c, const uint8_t **data, uint32_t *len)
{
	size_t left = c->len - c->off;
	uint32_t n;

	if (left == 0)
		return 0;
	if (left < IMG_LEN_SIZE) {
		c->err = "truncated length field";
		return -EBADMSG;
	}
	n = img_get_u32(c->buf + c->off);
	if (n > IMG_MAX_ENTRY) {
		c->err = "entry length over the 16 MiB limit";
		return -EBADMSG;
	}
	if (n > left - IMG_LEN_SIZE) {
		c->err = "truncated entry";
		return -EBADMSG;
	}
	*data = c->buf + c->off + IMG_LEN_SIZE;
	*len = n;
	c->off += IMG_LEN_SIZE + n;
	return 1;
}

int img_file_name(enum img_kind kind, uint64_t id, char *buf, size_t size)
{
	const struct img_type *t = &img_types[kind];
	int n = t->per_task ? snprintf(buf, size, "%s-%" PRIu64 ".img", t->name, id)
			    : snprintf(buf, size, "%s.img", t->name);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* The path of name under dirfd, for messages: errors name the file where
 * the user can find it, not only its name inside the images directory. */
static void img_where(int dirfd, const char *name, char *buf, size_t size)
{
	char link[64], dir[PATH_MAX];
	ssize_t n;

	if (dirfd == AT_FDCWD || name[0] == '/') {
		snprintf(buf, size, "%s", name);
		return;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
	n = readlink(link, dir, sizeof(dir) - 1);
	if (n <= 0) {
		snprintf(buf, size, "%s", name);
		return;
	}
	dir[n] = '\0';
	n = snprintf(buf, size, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= size)
		snprintf(buf, size, "%s", name);
}

int img_reader_open(int dirfd, const char *name, const struct img_type *expect,
		    struct img_reader *r)
{
	const struct img_type *t;
	char *buf = NULL;
	uint32_t magic;
	size_t len;
	int ret;

	memset(r, 0, sizeof(*r));
	img_where(dirfd, name, r->path, sizeof(r->path));
	ret = read_file_at(dirfd, name, IMG_MAX_FILE, &buf, &len);
	if (ret) {
		pr_err("%s: cannot read image: %s", r->path, errstr(ret));
		return ret;
	}
	ret = img_cursor_init(&r->cur, (uint8_t *)buf, len, &magic);
	if (ret) {
		pr_err("%s: corrupt image at offset 0: %s", r->path, r->cur.err);
		goto err;
	}
	t = img_type_by_magic(magic);
	if (!t) {
		pr_err("%s: unknown image magic 0x%08x at offset 0", r->path, magic);
		ret = -EBADMSG;
		goto err;
	}
	if (expect && t != expect) {
		pr_err("%s: is a %s image, expected %s (magic 0x%08x at offset 0)",
		       r->path, t->name, expect->name, magic);
		ret = -EBADMSG;
		goto err;
	}
	r->type = t;
	r->buf = (uint8_t *)buf;
	r->len = len;
	return 0;
err:
	free(buf);
	return ret;
}

int img_reader_next(struct img_reader *r, ProtobufCMessage **msg)
{
	const uint8_t *data;
	size_t off = r->cur.off;
	uint32_t len;
	int ret;

	if (!r->type->desc) {
		pr_err("%s: is a raw %s image with no entries", r->path, r->type->name);
		return -EINVAL;
	}
	ret = img_cursor_next(&r->cur, &data, &len);
	if (ret < 0) {
		pr_err("%s: corrupt image at offset %zu: %s", r->path, off, r->cur.err);
		return ret;
	}
	if (ret == 0)
		return 0;
	*msg = protobuf_c_message_unpack(r->type->desc, NULL, len, data);
	if (!*msg) {
		pr_err("%s: corrupt image at offset %zu: %u-byte entry is not a valid %s",
		       r->path, off, len, r->type->desc->name);
		return -EBADMSG;
	}
	return 1;
}

void img_reader_close(struct img_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

int img_read_one(int dirfd, enum img_kind kind, uint64_t id, ProtobufCMessage **msg)
{
	struct img_reader r;
	ProtobufCMessage *extra;
	char name[NAME_MAX + 1];
	int ret;

	ret = img_file_name(kind, id, name, sizeof(name));
	if (ret)
		return ret;
	ret = img_reader_open(dirfd, name, &img_types[kind], &r);
	if (ret)
		return ret;
	ret = img_reader_next(&r, msg);
	if (ret == 0) {
		pr_err("%s: image has no entry", r.path);
		ret = -EBADMSG;
	}
	if (ret < 0)
		goto out;
	ret = img_reader_next(&r, &extra);
	if (ret != 0) {
		if (ret > 0) {
			protobuf_c_message_free_unpacked(extra, NULL);
			pr_err("%s: image has more than one entry", r.path);
			ret = -EBADMSG;
		}
		protobuf_c_message_free_unpacked(*msg, NULL);
		*msg = NULL;
	}
out:
	img_reader_close(&r);
	return ret < 0 ? ret : 0;
}

void img_out_init(struct img_out *o, int dirfd)
{
	memset(o, 0, sizeof(*o));
	o->dirfd = dirfd;
	o->stream_fd = -1;
}

void img_out_fini(struct img_out *o)
{
	free(o->sums);
	o->sums = NULL;
	o->nr_sums = o->cap_sums = 0;
}

int img_out_add(struct img_out *o, const char *name, uint64_t size, uint64_t sum)
{
	struct img_sum *s;

	if (o->nr_sums == o->cap_sums) {
		size_t cap = o->cap_sums ? 2 * o->cap_sums : 32;

		s = realloc(o->sums, cap * sizeof(*s));
		if (!s)
			return -ENOMEM;
		o->sums = s;
		o->cap_sums = cap;
	}
	s = &o->sums[o->nr_sums++];
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->size = size;
	s->xxh3 = sum;
	return 0;
}

int img_out_list(const struct img_out *o, InventoryEntry *inv)
{
	/* One block: the pointer array, then the entries it points at. */
	ImageFileEntry **fp = calloc(o->nr_sums + 1, sizeof(*fp) + sizeof(**fp));
	ImageFileEntry *files = (ImageFileEntry *)(fp + o->nr_sums + 1);

	if (!fp)
		return -ENOMEM;
	for (size_t i = 0; i < o->nr_sums; i++) {
		image_file_entry__init(&files[i]);
		files[i].name = o->sums[i].name;
		files[i].size = o->sums[i].size;
		files[i].xxh3 = o->sums[i].xxh3;
		fp[i] = &files[i];
	}
	inv->files = fp;
	inv->n_files = o->nr_sums;
	return 0;
}

void img_out_unlist(InventoryEntry *inv)
{
	free(inv->files);
	inv->files = NULL;
	inv->n_files = 0;
}

/* Every byte of an image goes through here, so it is hashed as written:
 * piece by piece, each hashed while the write has just brought it into the
 * cache, so hashing a page buffer costs no second pass over memory. */
#define IMG_HASH_PIECE (64u << 10)
static int img_writer_bytes(struct img_writer *w, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	int ret;

	for (size_t off = 0; off < len; off += IMG_HASH_PIECE) {
		size_t n = len - off < IMG_HASH_PIECE ? len - off : IMG_HASH_PIECE;

		if (fwrite(p + off, n, 1, w->f) != 1) {
			ret = errno ? -errno : -EIO;
			pr_err("%s: cannot write image: %s", w->where, errstr(ret));
			return ret;
		}
		XXH3_64bits_update(w->xs, p + off, n);
	}
	w->bytes += len;
	return 0;
}

int img_writer_open(struct img_out *out, enum img_kind kind, uint64_t id, struct img_writer *w)
{
	uint8_t hdr[IMG_HDR_SIZE];
	int fd, ret;

	memset(w, 0, sizeof(*w));
	w->out = out;
	w->dirfd = out->dirfd;
	w->type = &img_types[kind];
	ret = img_file_name(kind, id, w->name, sizeof(w->name));
	if (ret)
		return ret;
	snprintf(w->tmp, sizeof(w->tmp), "%s.tmp", w->name);
	img_where(w->dirfd, w->tmp, w->where, sizeof(w->where));
	w->xs = XXH3_createState();
	if (!w->xs || XXH3_64bits_reset(w->xs) != XXH_OK) {
		XXH3_freeState(w->xs);
		w->xs = NULL;
		return -ENOMEM;
	}
	fd = openat(w->dirfd, w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		pr_err("%s: cannot create image: %s", w->where, errstr(ret));
		goto err;
	}
	w->f = fdopen(fd, "w");
	if (!w->f) {
		ret = -errno;
		close(fd);
		goto err;
	}
	img_put_u32(hdr, w->type->magic);
	ret = img_writer_bytes(w, hdr, sizeof(hdr));
	if (ret)
		goto err;
	return 0;
err:
	img_writer_abort(w);
	return ret;
}

int img_writer_put(struct img_writer *w, const ProtobufCMessage *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t lenbuf[IMG_LEN_SIZE];
	_cleanup_free_ uint8_t *buf = NULL;
	int ret;

	if (!w->type->desc || msg->descriptor != w->type->desc)
		return -EINVAL;
	if (len > IMG_MAX_ENTRY) {
		pr_err("%s: a %zu-byte entry is over the %u-byte limit", w->where, len, IMG_MAX_ENTRY);
		return -EFBIG;
	}
	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	protobuf_c_message_pack(msg, buf);
	img_put_u32(lenbuf, len);
	ret = img_writer_bytes(w, lenbuf, sizeof(lenbuf));
	return ret ? ret : img_writer_bytes(w, buf, len);
}

int img_writer_commit(struct img_writer *w)
{
	uint64_t sum = XXH3_64bits_digest(w->xs);
	int ret = 0;

	XXH3_freeState(w->xs);
	w->xs = NULL;
	if (fflush(w->f) || fsync(fileno(w->f)))
		ret = -errno;
	if (fclose(w->f) && !ret)
		ret = -errno;
	w->f = NULL;
	if (!ret && renameat(w->dirfd, w->tmp, w->dirfd, w->name))
		ret = -errno;
	if (ret) {
		pr_err("%s: cannot write image: %s", w->where, errstr(ret));
		unlinkat(w->dirfd, w->tmp, 0);
		return ret;
	}
	ret = img_out_add(w->out, w->name, w->bytes, sum);
	if (!ret && w->out->stream_fd >= 0)
		ret = stream_send(w->out, w->name, w->bytes, sum);   /* logs */
	return ret;
}

void img_writer_abort(struct img_writer *w)
{
	if (w->f)
		fclose(w->f);
	w->f = NULL;
	XXH3_freeState(w->xs);
	w->xs = NULL;
	unlinkat(w->dirfd, w->tmp, 0);
}

int img_write_one(struct img_out *out, enum img_kind kind, uint64_t id,
		  const ProtobufCMessage *msg)
{
	struct img_writer w;
	int ret;

	ret = img_writer_open(out, kind, id, &w);
	if (ret)
		return ret;
	ret = img_writer_put(&w, msg);
	if (ret) {
		img_writer_abort(&w);
		return ret;
	}
	return img_writer_commit(&w);
}

int img_writer_raw(struct img_writer *w, const void *buf, size_t len)
{
	if (w->type->desc)
		return -EINVAL;
	return img_writer_bytes(w, buf, len);
}

int img_raw_open(int dirfd, enum img_kind kind, uint64_t id, int *fdp, uint64_t *size)
{
	char name[NAME_MAX + 1], path[PATH_MAX];
	uint8_t hdr[IMG_HDR_SIZE];
	struct stat st;
	int fd, ret;

	ret = img_file_name(kind, id, name, sizeof(name));
	if (ret)
		return ret;
	img_where(dirfd, name, path, sizeof(path));
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		ret = -errno;
		pr_err("%s: cannot open image: %s", path, errstr(ret));
		goto err;
	}
	if (pread(fd, hdr, sizeof(hdr), 0) != sizeof(hdr)) {
		pr_err("%s: corrupt image at offset 0: file shorter than the 4-byte magic", path);
		ret = -EBADMSG;
		goto err;
	}
	if (img_get_u32(hdr) != img_types[kind].magic) {
		pr_err("%s: corrupt image at offset 0: magic 0x%08x is not a %s image",
		       path, img_get_u32(hdr), img_types[kind].name);
		ret = -EBADMSG;
		goto err;
	}
	*fdp = fd;
	*size = st.st_size - IMG_HDR_SIZE;
	return 0;
err:
	if (fd >= 0)
		close(fd);
	return ret;
}

/* ---- checking a set against inventory.img ---- */

bool img_name_in_set(const char *name)
{
	size_t n = strlen(name);

	if (n <= 4 || strcmp(name + n - 4, ".img"))
		return false;
	return strcmp(name, "inventory.img") && strcmp(name, "stats-restore.img");
}

enum img_verdict img_compare(const ImageFileEntry *want, bool found, uint64_t size, uint64_t sum)
{
	if (!found)
		return IMG_V_MISSING;
	if (size != want->size)
		return IMG_V_SIZE;
	return sum == want->xxh3 ? IMG_V_OK : IMG_V_SUM;
}

int img_file_sum(int dirfd, const char *name, uint64_t *size, uint64_t *sum)
{
	_cleanup_free_ uint8_t *buf = NULL;
	XXH3_state_t *xs = NULL;
	const size_t chunk = 1 << 20;
	uint64_t total = 0;
	ssize_t n;
	int fd, ret = 0;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(chunk);
	xs = XXH3_createState();
	if (!buf || !xs || XXH3_64bits_reset(xs) != XXH_OK) {
		ret = -ENOMEM;
		goto out;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	while ((n = read(fd, buf, chunk)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		XXH3_64bits_update(xs, buf, n);
		total += n;
	}
	*size = total;
	*sum = XXH3_64bits_digest(xs);
out:
	XXH3_freeState(xs);
	close(fd);
	return ret;
}

static bool listed(const InventoryEntry *inv, const char *name)
{
	for (size_t i = 0; i < inv->n_files; i++)
		if (!strcmp(inv->files[i]->name, name))
			return true;
	return false;
}

int img_verify_set(int dirfd, const InventoryEntry *inv,
		   void (*cb)(const struct img_check *ck, void *arg), void *arg)
{
	struct dirent *de;
	DIR *d = NULL;
	int fd, ret = 0;

	for (size_t i = 0; i < inv->n_files; i++) {
		const ImageFileEntry *f = inv->files[i];
		struct img_check ck = { .name = f->name, .want_size = f->size, .want_sum = f->xxh3 };

		ck.err = img_file_sum(dirfd, f->name, &ck.size, &ck.sum);
		if (ck.err && ck.err != -ENOENT)
			ck.verdict = IMG_V_UNREADABLE;
		else
			ck.verdict = img_compare(f, !ck.err, ck.size, ck.sum);
		if (ck.verdict != IMG_V_OK)
			ret = -EBADMSG;
		cb(&ck, arg);
	}
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		int err = -errno;

		if (fd >= 0)
			close(fd);
		pr_err("cannot list the images directory: %s", errstr(err));
		return err;
	}
	while ((de = readdir(d))) {
		struct img_check ck = { .name = de->d_name, .verdict = IMG_V_UNLISTED };

		if (!img_name_in_set(de->d_name) || listed(inv, de->d_name))
			continue;
		ret = -EBADMSG;
		cb(&ck, arg);
	}
	closedir(d);
	return ret;
}

void img_check_describe(const struct img_check *ck, char *buf, size_t size)
{
	switch (ck->verdict) {
	case IMG_V_OK:
		snprintf(buf, size, "%" PRIu64 " bytes, xxh3 0x%016" PRIx64, ck->size, ck->sum);
		break;
	case IMG_V_MISSING:
		snprintf(buf, size, "missing (inventory.img lists it, %" PRIu64 " bytes)",
			 ck->want_size);
		break;
	case IMG_V_SIZE:
		snprintf(buf, size, "%" PRIu64 " bytes where inventory.img says %" PRIu64
			 " (truncated or extended)", ck->size, ck->want_size);
		break;
	case IMG_V_SUM:
		snprintf(buf, size, "xxh3 0x%016" PRIx64 " where inventory.img says 0x%016" PRIx64
			 " (content changed)", ck->sum, ck->want_sum);
		break;
	case IMG_V_UNLISTED:
		snprintf(buf, size, "not listed in inventory.img (not part of the dumped set)");
		break;
	case IMG_V_UNREADABLE:
		snprintf(buf, size, "cannot read: %s", errstr(ck->err));
		break;
	}
}
