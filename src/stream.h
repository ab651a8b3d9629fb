/* Streamed image sets (minicr dump --stream, restore --stream): the whole
 * set as one byte stream on a pipe or socket, documented in
 * images/README.md ("Streams"):
 *
 *   header   "MCSTREAM" u32 version
 *   file     u32 name length (1..255), name, u64 size, size bytes, u64 XXH3
 *            of those bytes; one per image, in the order the dump
 *            committed them, inventory.img last
 *   end      u32 0, u64 number of files: written only once the dump has
 *            succeeded, so a stream without it is incomplete
 *
 * Either side stages files in a private tmpfs mounted nowhere
 * (img_staging_open()): the dump one image at a time (each is sent and
 * unlinked as it is committed), restore the whole set, which it then
 * verifies and reads like an images directory. The framing checks
 * (stream_*_check) are pure, for the unit tests. */
#ifndef MINICR_STREAM_H
#define MINICR_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "image.h"

#define STREAM_MAGIC     "MCSTREAM"
#define STREAM_MAGIC_LEN 8u
#define STREAM_VERSION   1u
#define STREAM_HDR_SIZE  (STREAM_MAGIC_LEN + 4u)

/* A directory fd on a new tmpfs attached nowhere: it vanishes with its
 * last fd. -errno (logged) if the kernel refuses. */
int img_staging_open(void);

/* Pure: 0 if hdr (STREAM_HDR_SIZE bytes) starts a stream this minicr
 * reads, else -EBADMSG with *why set. */
int stream_hdr_check(const uint8_t *hdr, const char **why);
/* Pure: 0 if name may be a file of a streamed set, else -EBADMSG. */
int stream_name_check(const char *name, const char **why);

/* Dump side: the header on out->stream_fd. */
int stream_begin(struct img_out *out);
/* Send the committed image name (size bytes, hash sum) from out->dirfd,
 * then unlink it there. */
int stream_send(struct img_out *out, const char *name, uint64_t size, uint64_t sum);
/* The end record: after it the receiver takes the set as complete. */
int stream_end(struct img_out *out);

/* Restore side: read a whole stream from fd into the directory dirfd.
 * Every defect (not a stream, truncated, a file whose bytes do not match
 * their hash, a bad or repeated name) is logged naming what is wrong and
 * returns -EBADMSG. */
int stream_receive(int fd, int dirfd);

#endif
