/* libFuzzer target: image framing and entry unpacking, as minicr reads
 * every image (src/image.h: img_reader_open(), img_cursor_*,
 * img_reader_next() and protobuf_c_message_unpack() with the type's
 * descriptor from imgtypes).
 *
 * Any input must end in entries or a clean error: no crash, leak or
 * undefined behaviour. Also checked: a framing error leaves the cursor on
 * the bad entry and says why, a clean end is the end of the buffer, a raw
 * image has no entries, and an entry that unpacks with no unknown field
 * packs to a form that unpacks and packs to the very same bytes (what
 * encode's byte identity rests on).
 *
 * Not checked with unknown fields: libprotobuf-c 1.4.1 accepts field
 * number 0 spelt as a two-byte tag (81 00: wire type 1), keeps it as an
 * unknown field and packs it back as the one byte 01, which its unpack then
 * refuses. minicr never repacks unknown fields (decode drops them, saying
 * so). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_access.h"
#include "image.h"
#include "imgtypes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_fixed_point(const ProtobufCMessage *msg)
{
	size_t n1 = protobuf_c_message_get_packed_size(msg), n2;
	uint8_t *p1 = malloc(n1 ? n1 : 1), *p2 = NULL;
	ProtobufCMessage *again;

	FUZZ_CHECK(p1);
	FUZZ_CHECK(protobuf_c_message_pack(msg, p1) == n1);
	again = protobuf_c_message_unpack(msg->descriptor, NULL, n1, p1);
	FUZZ_CHECK(again);
	n2 = protobuf_c_message_get_packed_size(again);
	FUZZ_CHECK(n2 == n1);
	p2 = malloc(n2 ? n2 : 1);
	FUZZ_CHECK(p2);
	FUZZ_CHECK(protobuf_c_message_pack(again, p2) == n2);
	FUZZ_CHECK(!memcmp(p1, p2, n1));
	protobuf_c_message_free_unpacked(again, NULL);
	free(p1);
	free(p2);
}

/* img_reader_open() on the same bytes as a file must come to the same
 * verdict about the header as the in-memory reader below. */
static void check_open(const uint8_t *data, size_t size)
{
	const struct img_type *t = size >= IMG_HDR_SIZE ? img_type_by_magic(img_get_u32(data)) : NULL;
	struct img_reader fr;
	int ret;

	ret = img_reader_open(AT_FDCWD, fuzz_as_file(data, size), NULL, &fr);
	FUZZ_CHECK(t ? ret == 0 && fr.type == t && fr.len == size : ret == -EBADMSG);
	if (!ret)
		img_reader_close(&fr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct img_reader r;
	ProtobufCMessage *msg;
	uint32_t magic;
	size_t off;
	int ret;

	check_open(data, size);
	/* img_reader_open() without the file, so that reads past the end of
	 * the input are caught exactly: it loads it, then does this. */
	memset(&r, 0, sizeof(r));
	snprintf(r.path, sizeof(r.path), "fuzz-input.img");
	if (img_cursor_init(&r.cur, data, size, &magic)) {
		FUZZ_CHECK(size < IMG_HDR_SIZE && r.cur.err);
		return 0;
	}
	r.type = img_type_by_magic(magic);
	if (!r.type)
		return 0;
	r.buf = (uint8_t *)data;        /* the caller's: no img_reader_close() */
	r.len = size;
	if (!r.type->desc) {
		FUZZ_CHECK(img_reader_next(&r, &msg) == -EINVAL);
		return 0;
	}
	for (;;) {
		off = r.cur.off;
		ret = img_reader_next(&r, &msg);
		if (ret < 0) {
			FUZZ_CHECK(ret == -EBADMSG);
			/* Framing errors stay on the bad entry; a bad message
			 * inside good framing has been stepped over. */
			FUZZ_CHECK(r.cur.err ? r.cur.off == off : r.cur.off > off);
			break;
		}
		if (ret == 0) {
			FUZZ_CHECK(off == size);
			break;
		}
		FUZZ_CHECK(r.cur.off >= off + IMG_LEN_SIZE && r.cur.off <= size);
		FUZZ_CHECK(msg->descriptor == r.type->desc);
		if (!fuzz_has_unknown(msg))
			check_fixed_point(msg);
		protobuf_c_message_free_unpacked(msg, NULL);
	}
	return 0;
}
