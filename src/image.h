/* Image files: a 32-bit little-endian magic naming the image type, then
 * entries, each a 32-bit little-endian length followed by that many bytes
 * of one packed protobuf message (see images/README.md).
 *
 * The framing over a memory buffer (img_cursor_*) is pure and is what the
 * unit tests and the fuzzer drive. The reader loads a whole file (images
 * other than page data are small) and reports any defect with the file name
 * and byte offset; the writer writes "<name>.tmp", fsyncs it and renames it
 * into place, so a file exists under its final name only once complete.
 *
 * Every image a writer commits is hashed as it is written (XXH3 64-bit, no
 * second read) and recorded in its struct img_out, from which the dump lists
 * the set in inventory.img; img_verify_set() checks a set against that list
 * before restore uses any of it. */
#ifndef MINICR_IMAGE_H
#define MINICR_IMAGE_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdbool.h>
#include <protobuf-c/protobuf-c.h>
#include <xxhash.h>

#include "imgtypes.h"
#include "inventory.pb-c.h"

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

/* One file of a set, as inventory.img lists it (ImageFileEntry). */
struct img_sum {
	char name[NAME_MAX + 1];
	uint64_t size;
	uint64_t xxh3;
};

/* Where a set of images goes: the directory, and every image committed
 * there so far (for inventory.img). */
struct img_out {
	int dirfd;
	int stream_fd;              /* >= 0: each image is sent there once committed
	                             * and unlinked from dirfd (src/stream.h) */
	uint64_t nr_sent;
	struct img_sum *sums;
	size_t nr_sums, cap_sums;
};

void img_out_init(struct img_out *o, int dirfd);
void img_out_fini(struct img_out *o);
int img_out_add(struct img_out *o, const char *name, uint64_t size, uint64_t sum);
/* Set inv->files to the images of o; img_out_unlist() frees that list. */
int img_out_list(const struct img_out *o, InventoryEntry *inv);
void img_out_unlist(InventoryEntry *inv);

struct img_writer {
	FILE *f;
	int dirfd;
	struct img_out *out;
	XXH3_state_t *xs;       /* hash of every byte written so far */
	const struct img_type *type;
	char name[NAME_MAX + 1];
	char tmp[NAME_MAX + 8];
	char where[PATH_MAX];   /* the .tmp file's path, for messages */
	uint64_t bytes;
};

int img_writer_open(struct img_out *out, enum img_kind kind, uint64_t id, struct img_writer *w);
int img_writer_put(struct img_writer *w, const ProtobufCMessage *msg);
/* Flush, fsync and rename into place; record the image in w->out. */
int img_writer_commit(struct img_writer *w);
/* Drop a half-written image. */
void img_writer_abort(struct img_writer *w);
/* Write an image holding exactly one entry. */
int img_write_one(struct img_out *out, enum img_kind kind, uint64_t id,
		  const ProtobufCMessage *msg);

/* Raw images (type desc NULL, e.g. page contents): after img_writer_open(),
 * append bytes with img_writer_raw(); commit as usual. */
int img_writer_raw(struct img_writer *w, const void *buf, size_t len);
/* Open a raw image for reading: checks the magic and returns an fd; the
 * data starts at file offset IMG_HDR_SIZE. *size is the data size. */
int img_raw_open(int dirfd, enum img_kind kind, uint64_t id, int *fd, uint64_t *size);

/* ---- checking a set against inventory.img ---- */

enum img_verdict {
	IMG_V_OK,
	IMG_V_MISSING,      /* listed, not there */
	IMG_V_SIZE,         /* listed, another size */
	IMG_V_SUM,          /* listed, same size, another checksum */
	IMG_V_UNLISTED,     /* there, read by restore, not listed */
	IMG_V_UNREADABLE,   /* err says why */
};

struct img_check {
	const char *name;
	enum img_verdict verdict;
	uint64_t want_size, size;
	uint64_t want_sum, sum;
	int err;
};

/* Whether restore may read a file of this name, so a set must list it:
 * "*.img" but inventory.img (the list itself) and stats-restore.img
 * (written by restore). */
bool img_name_in_set(const char *name);
/* The verdict for a listed file: found says whether it exists. */
enum img_verdict img_compare(const ImageFileEntry *want, bool found, uint64_t size, uint64_t sum);
/* Size and XXH3 of name under dirfd (reads it whole). */
int img_file_sum(int dirfd, const char *name, uint64_t *size, uint64_t *sum);
/* Check every file listed in inv, then look for unlisted ones; cb hears
 * about each file. 0: the set is intact; -EBADMSG: some file is not;
 * other -errno: dirfd could not be listed (logged). */
int img_verify_set(int dirfd, const InventoryEntry *inv,
		   void (*cb)(const struct img_check *ck, void *arg), void *arg);
/* "checksum 0x... where inventory.img says 0x..." etc., for messages. */
void img_check_describe(const struct img_check *ck, char *buf, size_t size);

#endif
