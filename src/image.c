#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
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

int img_writer_open(int dirfd, enum img_kind kind, uint64_t id, struct img_writer *w)
{
	uint8_t hdr[IMG_HDR_SIZE];
	int fd, ret;

	memset(w, 0, sizeof(*w));
	w->dirfd = dirfd;
	w->type = &img_types[kind];
	ret = img_file_name(kind, id, w->name, sizeof(w->name));
	if (ret)
		return ret;
	snprintf(w->tmp, sizeof(w->tmp), "%s.tmp", w->name);
	img_where(dirfd, w->tmp, w->where, sizeof(w->where));
	fd = openat(dirfd, w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		pr_err("%s: cannot create image: %s", w->where, errstr(ret));
		return ret;
	}
	w->f = fdopen(fd, "w");
	if (!w->f) {
		ret = -errno;
		close(fd);
		unlinkat(dirfd, w->tmp, 0);
		return ret;
	}
	img_put_u32(hdr, w->type->magic);
	if (fwrite(hdr, sizeof(hdr), 1, w->f) != 1) {
		ret = -errno;
		pr_err("%s: cannot write image: %s", w->where, errstr(ret));
		img_writer_abort(w);
		return ret;
	}
	w->bytes = sizeof(hdr);
	return 0;
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
	if (fwrite(lenbuf, sizeof(lenbuf), 1, w->f) != 1 ||
	    (len && fwrite(buf, len, 1, w->f) != 1)) {
		ret = errno ? -errno : -EIO;
		pr_err("%s: cannot write image: %s", w->where, errstr(ret));
		return ret;
	}
	w->bytes += sizeof(lenbuf) + len;
	return 0;
}

int img_writer_commit(struct img_writer *w)
{
	int ret = 0;

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
	}
	return ret;
}

void img_writer_abort(struct img_writer *w)
{
	if (w->f)
		fclose(w->f);
	w->f = NULL;
	unlinkat(w->dirfd, w->tmp, 0);
}

int img_write_one(int dirfd, enum img_kind kind, uint64_t id, const ProtobufCMessage *msg)
{
	struct img_writer w;
	int ret;

	ret = img_writer_open(dirfd, kind, id, &w);
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
	int ret;

	if (w->type->desc)
		return -EINVAL;
	if (len && fwrite(buf, len, 1, w->f) != 1) {
		ret = errno ? -errno : -EIO;
		pr_err("%s: cannot write image: %s", w->where, errstr(ret));
		return ret;
	}
	w->bytes += len;
	return 0;
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
