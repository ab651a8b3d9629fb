/* Image files: a 32-bit little-endian magic naming the image type, then
 * entries, each a 32-bit little-endian length followed by that many bytes
 * of one packed protobuf message (see images/README.md).
 *
 * The framing over a memory buffer (img_cursor_*) is pure and is what the
 * unit tests and the fuzzer drive. The reader loads a whole file (images
 * other than page data are small) and reports any defect with the file name
 * and byte offset; the writer writes "<name>.tmp", fsyncs it and renames it
 * into place, so a file exists under its final name only once complete. */
#ifndef MINICR_IMAGE_H
#define MINICR_IMAGE_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <protobuf-c/protobuf-c.h>

#include "imgtypes.h"

#define IMG_HDR_SIZE   4u
#define IMG_LEN_SIZE   4u
#define IMG_MAX_ENTRY  (16u << 20)   /* larger length fields are corrupt */
#define IMG_MAX_FILE   (1u << 30)

struct img_cursor {
	const uint8_t *buf;
	size_t len;
	size_t off;         /* offset of the next entry's length field */
	const char *err;    /* set when img_cursor_next() fails */
};

/* Check the header; on success *magic is set and c points at entry 0. */
int img_cursor_init(struct img_cursor *c, const uint8_t *buf, size_t len, uint32_t *magic);
/* 1: data and len give the next entry; 0: clean end; -EBADMSG: c->err says why
 * and c->off is the offset of the bad entry. */
int img_cursor_next(struct img_cursor *c, const uint8_t **data, uint32_t *len);

static inline void img_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24;
}
static inline uint32_t img_get_u32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* File name of an image: "core-42.img" for (IMG_CORE, 42), "pstree.img"
 * for (IMG_PSTREE, any). */
int img_file_name(enum img_kind kind, uint64_t id, char *buf, size_t size);

struct img_reader {
	char path[PATH_MAX];
	const struct img_type *type;
	uint8_t *buf;
	size_t len;
	struct img_cursor cur;
};

/* Open name (relative to dirfd) and check its magic against expect; expect
 * NULL accepts any known image type. */
int img_reader_open(int dirfd, const char *name, const struct img_type *expect,
		    struct img_reader *r);
/* 1 and *msg (free with protobuf_c_message_free_unpacked) or 0 at the end. */
int img_reader_next(struct img_reader *r, ProtobufCMessage **msg);
void img_reader_close(struct img_reader *r);
/* Open the image of (kind, pid) and read its single entry. */
int img_read_one(int dirfd, enum img_kind kind, uint64_t id, ProtobufCMessage **msg);

struct img_writer {
	FILE *f;
	int dirfd;
	const struct img_type *type;
	char name[NAME_MAX + 1];
	char tmp[NAME_MAX + 8];
	char where[PATH_MAX];   /* the .tmp file's path, for messages */
	uint64_t bytes;
};

int img_writer_open(int dirfd, enum img_kind kind, uint64_t id, struct img_writer *w);
int img_writer_put(struct img_writer *w, const ProtobufCMessage *msg);
/* Flush, fsync and rename into place. */
int img_writer_commit(struct img_writer *w);
/* Drop a half-written image. */
void img_writer_abort(struct img_writer *w);
/* Write an image holding exactly one entry. */
int img_write_one(int dirfd, enum img_kind kind, uint64_t id, const ProtobufCMessage *msg);

/* Raw images (type desc NULL, e.g. page contents): after img_writer_open(),
 * append bytes with img_writer_raw(); commit as usual. */
int img_writer_raw(struct img_writer *w, const void *buf, size_t len);
/* Open a raw image for reading: checks the magic and returns an fd; the
 * data starts at file offset IMG_HDR_SIZE. *size is the data size. */
int img_raw_open(int dirfd, enum img_kind kind, uint64_t id, int *fd, uint64_t *size);

#endif
