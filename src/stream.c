#include "stream.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define STREAM_CHUNK (1u << 20)

int img_staging_open(void)
{
	int fs = -1, mnt = -1, dir = -1, ret = 0;

	/* Mounted nowhere: nothing to clean up, nothing another process sees. */
	fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0 || fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0700", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		ret = -errno;
		goto out;
	}
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, 0);
	/* fsmount() gives an O_PATH fd: fsync() and the like want a real one. */
	if (mnt < 0 || (dir = openat(mnt, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		ret = -errno;
out:
	if (ret)
		pr_err("cannot make a private tmpfs to stage the stream in: %s", errstr(ret));
	if (mnt >= 0)
		close(mnt);
	if (fs >= 0)
		close(fs);
	return ret ? ret : dir;
}

static void put_u64(uint8_t *p, uint64_t v)
{
	img_put_u32(p, (uint32_t)v);
	img_put_u32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t get_u64(const uint8_t *p)
{
	return img_get_u32(p) | (uint64_t)img_get_u32(p + 4) << 32;
}

int stream_hdr_check(const uint8_t *hdr, const char **why)
{
	if (memcmp(hdr, STREAM_MAGIC, STREAM_MAGIC_LEN)) {
		*why = "not a minicr stream (no \"" STREAM_MAGIC "\" at its start)";
		return -EBADMSG;
	}
	if (img_get_u32(hdr + STREAM_MAGIC_LEN) != STREAM_VERSION) {
		*why = "stream format version is not 1 (written by another minicr)";
		return -EBADMSG;
	}
	return 0;
}

int stream_name_check(const char *name, const char **why)
{
	if (strchr(name, '/') || (!img_name_in_set(name) && strcmp(name, "inventory.img"))) {
		*why = "is not the name of an image file";
		return -EBADMSG;
	}
	return 0;
}

/* ---- dump side ---- */

int stream_begin(struct img_out *out)
{
	uint8_t hdr[STREAM_HDR_SIZE];
	int ret;

	/* A reader that goes away must fail the dump (EPIPE), which then
	 * lets the tree go on, not kill minicr with the tree frozen. */
	signal(SIGPIPE, SIG_IGN);
	memcpy(hdr, STREAM_MAGIC, STREAM_MAGIC_LEN);
	img_put_u32(hdr + STREAM_MAGIC_LEN, STREAM_VERSION);
	ret = write_all(out->stream_fd, hdr, sizeof(hdr));
	if (ret)
		pr_err("cannot write the stream: %s", errstr(ret));
	return ret;
}

/* size bytes of in (from offset 0) to out: sendfile() where the kernel
 * can, read()/write() where it cannot. */
static int copy_out(int in, int out, uint64_t size)
{
	_cleanup_free_ uint8_t *buf = NULL;
	off_t off = 0;
	ssize_t n;

	while ((uint64_t)off < size) {
		n = sendfile(out, in, &off, size - off < STREAM_CHUNK ? size - off : STREAM_CHUNK);
		if (n > 0)
			continue;
		if (n == 0)
			return -EIO;   /* the file is shorter than committed */
		if (errno == EINTR)
			continue;
		if (errno != EINVAL && errno != ENOSYS)
			return -errno;
		break;
	}
	if ((uint64_t)off == size)
		return 0;
	buf = malloc(STREAM_CHUNK);
	if (!buf)
		return -ENOMEM;
	while ((uint64_t)off < size) {
		size_t want = size - off < STREAM_CHUNK ? size - off : STREAM_CHUNK;
		int ret;

		n = pread(in, buf, want, off);
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		ret = write_all(out, buf, n);
		if (ret)
			return ret;
		off += n;
	}
	return 0;
}

int stream_send(struct img_out *out, const char *name, uint64_t size, uint64_t sum)
{
	size_t len = strlen(name);
	uint8_t head[4 + NAME_MAX + 8], tail[8];
	int fd, ret;

	img_put_u32(head, len);
	memcpy(head + 4, name, len);
	put_u64(head + 4 + len, size);
	put_u64(tail, sum);
	fd = openat(out->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	ret = write_all(out->stream_fd, head, 4 + len + 8);
	if (!ret)
		ret = copy_out(fd, out->stream_fd, size);
	if (!ret)
		ret = write_all(out->stream_fd, tail, sizeof(tail));
	close(fd);
	/* Sent: the staging tmpfs holds one image at a time, not the set. */
	unlinkat(out->dirfd, name, 0);
	if (!ret)
		out->nr_sent++;
out:
	if (ret)
		pr_err("%s: cannot write it to the stream: %s", name, errstr(ret));
	return ret;
}

int stream_end(struct img_out *out)
{
	uint8_t end[4 + 8];
	int ret;

	img_put_u32(end, 0);
	put_u64(end + 4, out->nr_sent);
	ret = write_all(out->stream_fd, end, sizeof(end));
	if (ret)
		pr_err("cannot write the end of the stream: %s", errstr(ret));
	return ret;
}

/* ---- restore side ---- */

struct rx {
	int fd, dirfd;
	uint64_t files;
	char last[NAME_MAX + 1];    /* the last file received, for messages */
	uint8_t *buf;
};

/* Exactly len bytes, or -EBADMSG naming what was cut short. */
static int rx_read(struct rx *r, void *p, size_t len, const char *what)
{
	ssize_t n = read_all(r->fd, p, len);

	if (n < 0) {
		pr_err("stream: cannot read: %s", errstr((int)n));
		return (int)n;
	}
	if ((size_t)n == len)
		return 0;
	if (!n && r->files && !strcmp(what, "a file's name length"))
		pr_err("stream: ends after %" PRIu64 " files (the last %s) with no end record: "
		       "the dump did not finish or the stream was cut", r->files, r->last);
	else if (r->files)
		pr_err("stream: truncated in %s after %" PRIu64 " files (the last %s): "
		       "%zd of %zu bytes", what, r->files, r->last, n, len);
	else
		pr_err("stream: truncated in %s: %zd of %zu bytes", what, n, len);
	return -EBADMSG;
}

/* One file's bytes into dirfd/name, checked against the hash after them. */
static int rx_file(struct rx *r, const char *name, uint64_t size)
{
	XXH3_state_t *xs = XXH3_createState();
	uint64_t left = size, sum;
	uint8_t tail[8];
	char what[NAME_MAX + 32];
	int fd = -1, ret = 0;

	if (!xs || XXH3_64bits_reset(xs) != XXH_OK) {
		ret = -ENOMEM;
		goto out;
	}
	fd = openat(r->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		if (ret == -EEXIST) {
			pr_err("stream: %s comes twice: corrupt", name);
			ret = -EBADMSG;
		} else {
			pr_err("stream: %s: cannot stage: %s", name, errstr(ret));
		}
		goto out;
	}
	while (left && !ret) {
		size_t want = left < STREAM_CHUNK ? left : STREAM_CHUNK;
		ssize_t n = read_all(r->fd, r->buf, want);

		if (n >= 0 && (size_t)n < want) {
			pr_err("stream: truncated in %s: %" PRIu64 " of %" PRIu64 " bytes",
			       name, size - left + n, size);
			ret = -EBADMSG;
		} else if (n < 0) {
			ret = (int)n;
			pr_err("stream: cannot read: %s", errstr(ret));
		} else {
			XXH3_64bits_update(xs, r->buf, n);
			ret = write_all(fd, r->buf, n);
			if (ret)
				pr_err("stream: %s: cannot stage: %s", name, errstr(ret));
			left -= n;
		}
	}
	snprintf(what, sizeof(what), "the checksum of %s", name);
	if (!ret)
		ret = rx_read(r, tail, sizeof(tail), what);
	if (ret)
		goto out;
	sum = XXH3_64bits_digest(xs);
	if (sum != get_u64(tail)) {
		pr_err("stream: %s: its bytes hash to xxh3 0x%016" PRIx64 ", the stream says "
		       "0x%016" PRIx64 ": corrupt", name, sum, get_u64(tail));
		ret = -EBADMSG;
	}
out:
	if (fd >= 0)
		close(fd);
	XXH3_freeState(xs);
	return ret;
}

int stream_receive(int fd, int dirfd)
{
	struct rx r = { .fd = fd, .dirfd = dirfd };
	uint8_t hdr[STREAM_HDR_SIZE], len4[4], u64[8];
	char name[NAME_MAX + 1];
	const char *why;
	uint32_t len;
	int ret;

	r.buf = malloc(STREAM_CHUNK);
	if (!r.buf)
		return -ENOMEM;
	ret = rx_read(&r, hdr, sizeof(hdr), "its header");
	if (!ret && (ret = stream_hdr_check(hdr, &why)))
		pr_err("stream: %s", why);
	while (!ret) {
		ret = rx_read(&r, len4, sizeof(len4), "a file's name length");
		if (ret)
			break;
		len = img_get_u32(len4);
		if (!len)
			break;
		if (len > NAME_MAX) {
			pr_err("stream: a name of %u bytes after %" PRIu64 " files: corrupt",
			       len, r.files);
			ret = -EBADMSG;
			break;
		}
		ret = rx_read(&r, name, len, "a file's name");
		if (ret)
			break;
		name[len] = '\0';
		if (memchr(name, '\0', len) || stream_name_check(name, &why)) {
			pr_err("stream: file %" PRIu64 " '%s' %s: corrupt", r.files + 1, name,
			       memchr(name, '\0', len) ? "has a NUL byte" : why);
			ret = -EBADMSG;
			break;
		}
		ret = rx_read(&r, u64, sizeof(u64), "a file's size");
		if (!ret)
			ret = rx_file(&r, name, get_u64(u64));
		if (!ret) {
			r.files++;
			snprintf(r.last, sizeof(r.last), "%s", name);
		}
	}
	if (!ret)
		ret = rx_read(&r, u64, sizeof(u64), "the end record");
	if (!ret && get_u64(u64) != r.files) {
		pr_err("stream: its end record counts %" PRIu64 " files, %" PRIu64 " came: corrupt",
		       get_u64(u64), r.files);
		ret = -EBADMSG;
	}
	free(r.buf);
	return ret;
}
