/* Image framing (img_cursor_*) on memory buffers, and the file reader and
 * writer in a scratch directory. Buffers are malloc'd at their exact size so
 * that ASan catches any read past the end. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.pb-c.h"
#include "image.h"
#include "log.h"
#include "pstree.pb-c.h"
#include "stream.h"
#include "util.h"

#define MAGIC IMG_MAGIC('M', 'C', 'P', 'S')

/* ---- building buffers ---- */

struct buf {
	uint8_t *p;
	size_t len;
};

static void buf_add(struct buf *b, const void *data, size_t len)
{
	b->p = realloc(b->p, b->len + len ? b->len + len : 1);
	assert_non_null(b->p);
	if (len)
		memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void buf_u32(struct buf *b, uint32_t v)
{
	uint8_t le[4];

	img_put_u32(le, v);
	buf_add(b, le, sizeof(le));
}

static void buf_entry(struct buf *b, const void *data, uint32_t len)
{
	buf_u32(b, len);
	buf_add(b, data, len);
}

/* An exact-size copy, so the cursor cannot read past it unnoticed. */
static uint8_t *exact(const struct buf *b)
{
	uint8_t *p = malloc(b->len ? b->len : 1);

	assert_non_null(p);
	if (b->len)
		memcpy(p, b->p, b->len);
	return p;
}

static void pattern(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7);
}

/* ---- framing ---- */

static void test_magic_le(void **state)
{
	uint8_t b[4];

	(void)state;
	img_put_u32(b, MAGIC);
	assert_memory_equal(b, "MCPS", 4);
	assert_int_equal(img_get_u32(b), MAGIC);
	img_put_u32(b, 0xfedcba98);
	assert_int_equal(b[0], 0x98);
	assert_int_equal(b[3], 0xfe);
	assert_int_equal(img_get_u32(b), 0xfedcba98);
}

static void test_zero_entries(void **state)
{
	struct buf b = { 0 };
	struct img_cursor c;
	const uint8_t *data;
	uint32_t magic, len;
	uint8_t *p;

	(void)state;
	buf_u32(&b, MAGIC);
	p = exact(&b);
	assert_int_equal(img_cursor_init(&c, p, b.len, &magic), 0);
	assert_int_equal(magic, MAGIC);
	assert_int_equal(c.off, IMG_HDR_SIZE);
	assert_int_equal(img_cursor_next(&c, &data, &len), 0);
	/* The end is sticky. */
	assert_int_equal(img_cursor_next(&c, &data, &len), 0);
	free(p);
	free(b.p);
}

static void test_one_entry(void **state)
{
	static const uint8_t payload[] = { 0x08, 0x2a, 0x12, 0x03, 'a', 'b', 'c' };
	struct buf b = { 0 };
	struct img_cursor c;
	const uint8_t *data;
	uint32_t magic, len;
	uint8_t *p;

	(void)state;
	buf_u32(&b, MAGIC);
	buf_entry(&b, payload, sizeof(payload));
	p = exact(&b);
	assert_int_equal(img_cursor_init(&c, p, b.len, &magic), 0);
	assert_int_equal(img_cursor_next(&c, &data, &len), 1);
	assert_int_equal(len, sizeof(payload));
	assert_ptr_equal(data, p + IMG_HDR_SIZE + IMG_LEN_SIZE);
	assert_memory_equal(data, payload, sizeof(payload));
	assert_int_equal(img_cursor_next(&c, &data, &len), 0);
	assert_int_equal(c.off, b.len);
	free(p);
	free(b.p);
}

/* Many entries of varied sizes, including empty ones (a message with no
 * field set packs to 0 bytes). */
static void test_many_entries(void **state)
{
	enum { N = 300 };
	struct buf b = { 0 };
	struct img_cursor c;
	const uint8_t *data;
	uint32_t magic, len;
	uint8_t tmp[1200], want[1200];
	uint8_t *p;
	size_t n = 0;

	(void)state;
	buf_u32(&b, MAGIC);
	for (unsigned i = 0; i < N; i++) {
		uint32_t l = (i * 37) % 1100;

		if (i % 10 == 3)
			l = 0;
		pattern(tmp, l, i);
		buf_entry(&b, tmp, l);
	}
	p = exact(&b);
	assert_int_equal(img_cursor_init(&c, p, b.len, &magic), 0);
	while (img_cursor_next(&c, &data, &len) == 1) {
		uint32_t l = (n * 37) % 1100;

		if (n % 10 == 3)
			l = 0;
		assert_int_equal(len, l);
		pattern(want, l, n);
		if (l)
			assert_memory_equal(data, want, l);
		n++;
	}
	assert_null(c.err);
	assert_int_equal(n, N);
	free(p);
	free(b.p);
}

static void test_empty_entry_only(void **state)
{
	struct buf b = { 0 };
	struct img_cursor c;
	const uint8_t *data;
	uint32_t magic, len = 99;
	uint8_t *p;

	(void)state;
	buf_u32(&b, MAGIC);
	buf_entry(&b, NULL, 0);
	p = exact(&b);
	assert_int_equal(img_cursor_init(&c, p, b.len, &magic), 0);
	assert_int_equal(img_cursor_next(&c, &data, &len), 1);
	assert_int_equal(len, 0);
	assert_int_equal(img_cursor_next(&c, &data, &len), 0);
	free(p);
	free(b.p);
}

static void test_truncated_header(void **state)
{
	static const uint8_t bytes[3] = { 'M', 'C', 'P' };
	struct img_cursor c;
	uint32_t magic;

	(void)state;
	for (size_t len = 0; len < IMG_HDR_SIZE; len++) {
		uint8_t *p = malloc(len ? len : 1);

		memcpy(p, bytes, len);
		assert_int_equal(img_cursor_init(&c, p, len, &magic), -EBADMSG);
		assert_non_null(c.err);
		free(p);
	}
}

/* Expect the cursor to fail at byte offset bad_off after good entries. */
static void expect_bad(const struct buf *b, unsigned good, size_t bad_off, const char *why)
{
	struct img_cursor c;
	const uint8_t *data;
	uint32_t magic, len;
	uint8_t *p = exact(b);

	assert_int_equal(img_cursor_init(&c, p, b->len, &magic), 0);
	for (unsigned i = 0; i < good; i++)
		assert_int_equal(img_cursor_next(&c, &data, &len), 1);
	assert_int_equal(img_cursor_next(&c, &data, &len), -EBADMSG);
	assert_non_null(c.err);
	assert_non_null(strstr(c.err, why));
	assert_int_equal(c.off, bad_off);
	free(p);
}

static void test_truncated_length(void **state)
{
	(void)state;
	for (size_t cut = 1; cut < IMG_LEN_SIZE; cut++) {
		struct buf b = { 0 };

		buf_u32(&b, MAGIC);
		buf_entry(&b, "xyz", 3);
		buf_add(&b, "\x05\x00\x00", cut);
		expect_bad(&b, 1, IMG_HDR_SIZE + IMG_LEN_SIZE + 3, "truncated length");
		free(b.p);
	}
}

static void test_truncated_entry(void **state)
{
	struct buf b = { 0 };

	(void)state;
	buf_u32(&b, MAGIC);
	buf_entry(&b, "ab", 2);
	buf_u32(&b, 10);
	buf_add(&b, "12345", 5);
	expect_bad(&b, 1, IMG_HDR_SIZE + IMG_LEN_SIZE + 2, "truncated entry");
	free(b.p);

	/* A length field and nothing after it. */
	b = (struct buf){ 0 };
	buf_u32(&b, MAGIC);
	buf_u32(&b, 1);
	expect_bad(&b, 0, IMG_HDR_SIZE, "truncated entry");
	free(b.p);
}

static void test_oversized_length(void **state)
{
	static const uint32_t lens[] = { IMG_MAX_ENTRY + 1, 0x7fffffff, 0xffffffff };
	struct buf b = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		b = (struct buf){ 0 };
		buf_u32(&b, MAGIC);
		buf_u32(&b, lens[i]);
		buf_add(&b, "data", 4);
		expect_bad(&b, 0, IMG_HDR_SIZE, "16 MiB");
		free(b.p);
	}
	/* Exactly the limit is legal framing; here it is merely truncated. */
	b = (struct buf){ 0 };
	buf_u32(&b, MAGIC);
	buf_u32(&b, IMG_MAX_ENTRY);
	expect_bad(&b, 0, IMG_HDR_SIZE, "truncated entry");
	free(b.p);
}

/* Random bytes: the cursor must end or fail cleanly, never overrun, and
 * every entry it returns must lie inside the buffer. */
static void test_garbage(void **state)
{
	uint32_t seed = 12345;

	(void)state;
	for (int round = 0; round < 2000; round++) {
		size_t len = round % 64;
		uint8_t *p = malloc(len ? len : 1);
		struct img_cursor c;
		const uint8_t *data;
		uint32_t magic, l;
		int ret, steps = 0;

		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245 + 12345;
			p[i] = seed >> 16;
			/* Mostly zero bytes in every third round, so that length
			 * fields are small and some entries parse. */
			if (round % 3 == 0 && i >= IMG_HDR_SIZE)
				p[i] = (seed >> 24) % 4 == 0 ? (seed >> 8) & 7 : 0;
		}
		if (img_cursor_init(&c, p, len, &magic)) {
			assert_true(len < IMG_HDR_SIZE);
			free(p);
			continue;
		}
		while ((ret = img_cursor_next(&c, &data, &l)) == 1) {
			assert_true(data >= p && data + l <= p + len);
			assert_true(++steps <= 64);
		}
		if (ret < 0)
			assert_non_null(c.err);
		else
			assert_int_equal(c.off, len);
		free(p);
	}
}

/* ---- files ---- */

struct dir {
	char path[64];
	int fd;
	struct img_out out;
};

static int dir_setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));

	if (!d)
		return -1;
	snprintf(d->path, sizeof(d->path), "/tmp/minicr-test-image.XXXXXX");
	if (!mkdtemp(d->path))
		return -1;
	d->fd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->fd < 0)
		return -1;
	img_out_init(&d->out, d->fd);
	*state = d;
	return 0;
}

/* name under dirfd, a file or a directory of files */
static void rm_entry(int dirfd, const char *name)
{
	struct dirent *de;
	DIR *sub;
	int fd;

	if (!unlinkat(dirfd, name, 0))
		return;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	sub = fd >= 0 ? fdopendir(fd) : NULL;
	if (!sub)
		return;
	while ((de = readdir(sub)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlinkat(fd, de->d_name, 0);
	closedir(sub);
	unlinkat(dirfd, name, AT_REMOVEDIR);
}

static int dir_teardown(void **state)
{
	struct dir *d = *state;
	struct dirent *de;
	DIR *dir = fdopendir(d->fd);

	if (!dir)
		return -1;
	while ((de = readdir(dir)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			rm_entry(d->fd, de->d_name);
	closedir(dir);
	if (rmdir(d->path))
		return -1;
	img_out_fini(&d->out);
	free(d);
	return 0;
}

static bool exists(int dirfd, const char *name)
{
	struct stat st;

	return fstatat(dirfd, name, &st, 0) == 0;
}

static void write_bytes(int dirfd, const char *name, const void *data, size_t len)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void test_file_name(void **state)
{
	char name[32];

	(void)state;
	assert_int_equal(img_file_name(IMG_CORE, 42, name, sizeof(name)), 0);
	assert_string_equal(name, "core-42.img");
	assert_int_equal(img_file_name(IMG_PSTREE, 42, name, sizeof(name)), 0);
	assert_string_equal(name, "pstree.img");
	assert_int_equal(img_file_name(IMG_CORE, 42, name, 5), -ENAMETOOLONG);
}

static void test_writer_reader(void **state)
{
	struct dir *d = *state;
	int32_t threads[3][2] = { { 10, 11 }, { 20, 0 }, { 30, 0 } };
	struct img_writer w;
	struct img_reader r;
	ProtobufCMessage *msg;
	struct stat st;
	unsigned n = 0;

	assert_int_equal(img_writer_open(&d->out, IMG_PSTREE, 0, &w), 0);
	/* Until committed, only the .tmp file exists. */
	assert_true(exists(d->fd, "pstree.img.tmp"));
	assert_false(exists(d->fd, "pstree.img"));
	for (int i = 0; i < 3; i++) {
		PstreeEntry e = PSTREE_ENTRY__INIT;

		e.pid = (i + 1) * 10;
		e.ppid = i ? 10 : 1;
		e.pgid = 10;
		e.sid = 10;
		e.n_threads = i ? 1 : 2;
		e.threads = threads[i];
		assert_int_equal(img_writer_put(&w, &e.base), 0);
	}
	assert_int_equal(img_writer_commit(&w), 0);
	assert_false(exists(d->fd, "pstree.img.tmp"));
	assert_int_equal(fstatat(d->fd, "pstree.img", &st, 0), 0);
	assert_int_equal(st.st_size, w.bytes);

	assert_int_equal(img_reader_open(d->fd, "pstree.img", &img_types[IMG_PSTREE], &r), 0);
	assert_ptr_equal(r.type, &img_types[IMG_PSTREE]);
	while (img_reader_next(&r, &msg) == 1) {
		PstreeEntry *e = (PstreeEntry *)msg;

		assert_ptr_equal(msg->descriptor, &pstree_entry__descriptor);
		assert_int_equal(e->pid, (int)(n + 1) * 10);
		assert_int_equal(e->n_threads, n ? 1 : 2);
		assert_int_equal(e->threads[0], threads[n][0]);
		protobuf_c_message_free_unpacked(msg, NULL);
		n++;
	}
	assert_int_equal(n, 3);
	img_reader_close(&r);

	/* expect NULL accepts any known type. */
	assert_int_equal(img_reader_open(d->fd, "pstree.img", NULL, &r), 0);
	assert_ptr_equal(r.type, &img_types[IMG_PSTREE]);
	img_reader_close(&r);
}

static void test_read_write_one(void **state)
{
	struct dir *d = *state;
	CoreEntry c = CORE_ENTRY__INIT;
	ProtobufCMessage *msg;
	CoreEntry *got;

	c.pid = 77;
	c.comm = "zombie";
	c.state = TASK_STATE__TASK_ZOMBIE;
	c.has_exit_code = 1;
	c.exit_code = 7;
	assert_int_equal(img_write_one(&d->out, IMG_CORE, 77, &c.base), 0);
	assert_true(exists(d->fd, "core-77.img"));
	assert_false(exists(d->fd, "core-77.img.tmp"));
	assert_int_equal(img_read_one(d->fd, IMG_CORE, 77, &msg), 0);
	got = (CoreEntry *)msg;
	assert_int_equal(got->pid, 77);
	assert_string_equal(got->comm, "zombie");
	assert_int_equal(got->state, TASK_STATE__TASK_ZOMBIE);
	assert_true(got->has_exit_code);
	assert_int_equal(got->exit_code, 7);
	assert_false(got->has_exit_signal);
	protobuf_c_message_free_unpacked(msg, NULL);

	/* A missing image is an error, not an empty one. */
	assert_true(img_read_one(d->fd, IMG_CORE, 78, &msg) < 0);
}

static void test_writer_abort(void **state)
{
	struct dir *d = *state;
	struct img_writer w;
	CoreEntry c = CORE_ENTRY__INIT;
	PstreeEntry p = PSTREE_ENTRY__INIT;

	c.comm = "x";
	assert_int_equal(img_writer_open(&d->out, IMG_CORE, 5, &w), 0);
	/* A message of the wrong type is refused. */
	assert_int_equal(img_writer_put(&w, &p.base), -EINVAL);
	assert_int_equal(img_writer_put(&w, &c.base), 0);
	img_writer_abort(&w);
	assert_false(exists(d->fd, "core-5.img.tmp"));
	assert_false(exists(d->fd, "core-5.img"));
}

static void test_reader_refuses(void **state)
{
	struct dir *d = *state;
	CoreEntry c = CORE_ENTRY__INIT;
	struct img_reader r;
	ProtobufCMessage *msg;
	struct buf b = { 0 };
	static const uint8_t not_pb[] = { 0xff, 0xff, 0xff };

	c.comm = "c";
	assert_int_equal(img_write_one(&d->out, IMG_CORE, 1, &c.base), 0);
	/* Wrong magic for what the caller expects. */
	assert_int_equal(img_reader_open(d->fd, "core-1.img", &img_types[IMG_PSTREE], &r),
			 -EBADMSG);

	/* Unknown magic. */
	write_bytes(d->fd, "junk.img", "JUNK\0\0\0\0", 8);
	assert_int_equal(img_reader_open(d->fd, "junk.img", NULL, &r), -EBADMSG);

	/* Shorter than the magic. */
	write_bytes(d->fd, "short.img", "MC", 2);
	assert_int_equal(img_reader_open(d->fd, "short.img", NULL, &r), -EBADMSG);

	/* Good framing, but the entry is not a protobuf message. */
	buf_u32(&b, img_types[IMG_CORE].magic);
	buf_entry(&b, not_pb, sizeof(not_pb));
	write_bytes(d->fd, "core-2.img", b.p, b.len);
	assert_int_equal(img_reader_open(d->fd, "core-2.img", &img_types[IMG_CORE], &r), 0);
	assert_int_equal(img_reader_next(&r, &msg), -EBADMSG);
	img_reader_close(&r);

	/* Truncated entry in a file. */
	b.len -= 1;
	write_bytes(d->fd, "core-3.img", b.p, b.len);
	assert_int_equal(img_reader_open(d->fd, "core-3.img", &img_types[IMG_CORE], &r), 0);
	assert_int_equal(img_reader_next(&r, &msg), -EBADMSG);
	img_reader_close(&r);
	free(b.p);

	/* img_read_one() wants exactly one entry. */
	b = (struct buf){ 0 };
	buf_u32(&b, img_types[IMG_CORE].magic);
	write_bytes(d->fd, "core-4.img", b.p, b.len);
	assert_true(img_read_one(d->fd, IMG_CORE, 4, &msg) < 0);
	free(b.p);
}

static void test_read_one_two_entries(void **state)
{
	struct dir *d = *state;
	CoreEntry c = CORE_ENTRY__INIT;
	struct img_writer w;
	ProtobufCMessage *msg = NULL;

	c.comm = "two";
	assert_int_equal(img_writer_open(&d->out, IMG_CORE, 9, &w), 0);
	assert_int_equal(img_writer_put(&w, &c.base), 0);
	assert_int_equal(img_writer_put(&w, &c.base), 0);
	assert_int_equal(img_writer_commit(&w), 0);
	assert_true(img_read_one(d->fd, IMG_CORE, 9, &msg) < 0);
}

/* What the writer records is what a second read finds, and the check
 * names each kind of damage. */
struct seen {
	enum img_verdict v[8];
	char names[8][32];
	unsigned n;
};

static void note(const struct img_check *ck, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8) {
		s->v[s->n] = ck->verdict;
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s", ck->name);
	}
	s->n++;
}

static void test_sums_verify(void **state)
{
	struct dir *d = *state;
	CoreEntry c = CORE_ENTRY__INIT;
	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	ImageFileEntry fe[2], *fp[2];
	struct img_writer w;
	struct seen s = { 0 };
	uint64_t size, sum;
	uint8_t page[5000];

	c.comm = "sum";
	assert_int_equal(img_write_one(&d->out, IMG_CORE, 1, &c.base), 0);
	memset(page, 0x5a, sizeof(page));
	assert_int_equal(img_writer_open(&d->out, IMG_PAGES, 1, &w), 0);
	assert_int_equal(img_writer_raw(&w, page, sizeof(page)), 0);
	assert_int_equal(img_writer_raw(&w, page, 7), 0);
	assert_int_equal(img_writer_commit(&w), 0);
	assert_int_equal(d->out.nr_sums, 2);
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(img_file_sum(d->fd, d->out.sums[i].name, &size, &sum), 0);
		assert_int_equal(size, d->out.sums[i].size);
		assert_int_equal(sum, d->out.sums[i].xxh3);
		image_file_entry__init(&fe[i]);
		fe[i].name = d->out.sums[i].name;
		fe[i].size = d->out.sums[i].size;
		fe[i].xxh3 = d->out.sums[i].xxh3;
		fp[i] = &fe[i];
	}
	assert_string_equal(d->out.sums[1].name, "pages-1.img");
	assert_int_equal(d->out.sums[1].size, IMG_HDR_SIZE + sizeof(page) + 7);
	inv.n_files = 2;
	inv.files = fp;
	assert_int_equal(img_verify_set(d->fd, &inv, note, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.v[0], IMG_V_OK);
	assert_int_equal(s.v[1], IMG_V_OK);

	/* A flipped byte, a cut file, a missing one, a stranger. */
	write_bytes(d->fd, "stray.img", "MCCO", 4);
	{
		char p[128];

		snprintf(p, sizeof(p), "%s/core-1.img", d->path);
		assert_int_equal(truncate(p, fe[0].size - 1), 0);
		snprintf(p, sizeof(p), "%s/pages-1.img", d->path);
		int fd = open(p, O_WRONLY | O_CLOEXEC);
		assert_true(fd >= 0);
		assert_int_equal(pwrite(fd, "x", 1, 100), 1);
		close(fd);
	}
	memset(&s, 0, sizeof(s));
	assert_int_equal(img_verify_set(d->fd, &inv, note, &s), -EBADMSG);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.v[0], IMG_V_SIZE);
	assert_int_equal(s.v[1], IMG_V_SUM);
	assert_int_equal(s.v[2], IMG_V_UNLISTED);
	assert_string_equal(s.names[2], "stray.img");
	unlinkat(d->fd, "core-1.img", 0);
	unlinkat(d->fd, "stray.img", 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(img_verify_set(d->fd, &inv, note, &s), -EBADMSG);
	assert_int_equal(s.v[0], IMG_V_MISSING);
	assert_int_equal(s.n, 2);
}

static void test_stream_checks(void **state)
{
	const char *why = NULL;
	uint8_t hdr[STREAM_HDR_SIZE] = "MCSTREAM\1\0\0\0";

	(void)state;
	assert_int_equal(stream_hdr_check(hdr, &why), 0);
	hdr[8] = 2;
	assert_int_equal(stream_hdr_check(hdr, &why), -EBADMSG);
	hdr[8] = 1;
	hdr[0] = 'X';
	assert_int_equal(stream_hdr_check(hdr, &why), -EBADMSG);
	assert_non_null(why);
	assert_int_equal(stream_name_check("core-1.img", &why), 0);
	assert_int_equal(stream_name_check("inventory.img", &why), 0);
	assert_int_equal(stream_name_check("../core-1.img", &why), -EBADMSG);
	assert_int_equal(stream_name_check("stats-restore.img", &why), -EBADMSG);
	assert_int_equal(stream_name_check("passwd", &why), -EBADMSG);
}

/* feed DATA (len bytes) to stream_receive() into a fresh subdirectory */
static int receive_bytes(struct dir *d, const char *sub, const void *data, size_t len)
{
	int fd, dirfd, ret;

	assert_int_equal(mkdirat(d->fd, sub, 0700), 0);
	dirfd = openat(d->fd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	write_bytes(d->fd, "in.bin", data, len);
	fd = openat(d->fd, "in.bin", O_RDONLY | O_CLOEXEC);
	assert_true(dirfd >= 0 && fd >= 0);
	ret = stream_receive(fd, dirfd);
	close(fd);
	close(dirfd);
	return ret;
}

static void test_stream_round_trip(void **state)
{
	struct dir *d = *state;
	CoreEntry c = CORE_ENTRY__INIT;
	struct img_writer w;
	uint8_t page[9000], *s;
	size_t len, n;
	int sfd;
	char *got;

	assert_int_equal(mkdirat(d->fd, "src", 0700), 0);
	d->out.dirfd = openat(d->fd, "src", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	sfd = openat(d->fd, "stream.bin", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(d->out.dirfd >= 0 && sfd >= 0);
	d->out.stream_fd = sfd;
	c.comm = "streamed";
	memset(page, 0xa5, sizeof(page));
	assert_int_equal(stream_begin(&d->out), 0);
	assert_int_equal(img_write_one(&d->out, IMG_CORE, 3, &c.base), 0);
	assert_int_equal(img_writer_open(&d->out, IMG_PAGES, 3, &w), 0);
	assert_int_equal(img_writer_raw(&w, page, sizeof(page)), 0);
	assert_int_equal(img_writer_commit(&w), 0);
	assert_int_equal(stream_end(&d->out), 0);
	/* Sent images leave the staging directory. */
	assert_false(exists(d->out.dirfd, "core-3.img"));
	close(d->out.dirfd);
	d->out.dirfd = d->fd;
	close(sfd);
	assert_int_equal(read_file_at(d->fd, "stream.bin", 1 << 20, &got, &len), 0);
	s = (uint8_t *)got;
	assert_memory_equal(s, "MCSTREAM", 8);

	assert_int_equal(receive_bytes(d, "ok", s, len), 0);
	assert_int_equal(img_file_sum(d->fd, "ok/pages-3.img", &(uint64_t){ 0 }, &(uint64_t){ 0 }), 0);
	{
		struct stat st;

		assert_int_equal(fstatat(d->fd, "ok/pages-3.img", &st, 0), 0);
		assert_int_equal(st.st_size, IMG_HDR_SIZE + sizeof(page));
	}
	/* Every cut is refused: in the header, in a file, before the end. */
	for (n = 0; n < len; n += n < 40 ? 1 : 997) {
		char sub[32];

		snprintf(sub, sizeof(sub), "cut%zu", n);
		assert_int_equal(receive_bytes(d, sub, s, n), -EBADMSG);
	}
	/* A flipped byte in the pages is refused by the record's hash. */
	s[len - 12 - 8 - 100] ^= 1;
	assert_int_equal(receive_bytes(d, "flip", s, len), -EBADMSG);
	free(got);
}

static void test_name_in_set(void **state)
{
	(void)state;
	assert_true(img_name_in_set("core-1.img"));
	assert_true(img_name_in_set("stats-dump.img"));
	assert_false(img_name_in_set("inventory.img"));
	assert_false(img_name_in_set("stats-restore.img"));
	assert_false(img_name_in_set("core-1.img.tmp"));
	assert_false(img_name_in_set("notes.txt"));
	assert_false(img_name_in_set(".img"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_magic_le),
		cmocka_unit_test(test_zero_entries),
		cmocka_unit_test(test_one_entry),
		cmocka_unit_test(test_many_entries),
		cmocka_unit_test(test_empty_entry_only),
		cmocka_unit_test(test_truncated_header),
		cmocka_unit_test(test_truncated_length),
		cmocka_unit_test(test_truncated_entry),
		cmocka_unit_test(test_oversized_length),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_file_name),
		cmocka_unit_test(test_name_in_set),
		cmocka_unit_test(test_stream_checks),
		cmocka_unit_test_setup_teardown(test_stream_round_trip, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_sums_verify, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_writer_reader, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_read_write_one, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_writer_abort, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_reader_refuses, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_read_one_two_entries, dir_setup, dir_teardown),
	};

	/* The failures provoked here are expected; keep their messages out. */
	log_init("test-image", LOG_ERR - 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
