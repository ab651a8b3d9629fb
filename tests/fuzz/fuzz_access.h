/* What the fuzz targets need of minicr-decode, from memory instead of
 * files: the very code of tools/decode.c (fuzz_access.c includes it), so a
 * bug the fuzzer finds there is a bug of the tool. Also the check that
 * tells whether encode is bound to give back an image byte for byte, and
 * FUZZ_CHECK, which turns a broken guarantee into a crash libFuzzer keeps.
 *
 * Everything logs through log.c as the tool does; tools/run-fuzz hides
 * that output (libFuzzer's -close_fd_mask) but not the sanitizers'. */
#ifndef MINICR_FUZZ_ACCESS_H
#define MINICR_FUZZ_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

/* Image file bytes -> the JSON text `minicr-decode decode [--pretty]`
 * prints (without the newline), malloc'd. *raw tells a raw image, whose
 * JSON encode refuses by design. 0, or -EBADMSG/-ENOMEM when decode
 * refuses the file. */
int fuzz_decode(const uint8_t *buf, size_t len, bool pretty, char **json, bool *raw);

/* JSON text (not NUL-terminated) -> the image bytes `minicr-decode encode`
 * writes, malloc'd. 0 or the error encode exits 1 with. */
int fuzz_encode(const char *text, size_t len, uint8_t **img, size_t *img_len);

/* True when buf is an image of a known type whose every entry unpacks,
 * holds no field the schema does not know (at any depth) and packs back to
 * exactly its own bytes: the images decode + encode must reproduce. */
bool fuzz_image_canonical(const uint8_t *buf, size_t len);

/* Whether m or a message inside it holds fields its schema does not know. */
bool fuzz_has_unknown(const ProtobufCMessage *m);

/* The bytes as a file: a path (valid until the next call) to a memfd. */
const char *fuzz_as_file(const uint8_t *buf, size_t len);

/* pstree image bytes -> what `minicr-decode show` builds before reading
 * the core images: the tree linked by ppid and its print order, checked
 * (FUZZ_CHECK) to be sound. 0 or the error show refuses the image with. */
int fuzz_show_tree(const uint8_t *buf, size_t len);

void fuzz_check_failed(const char *file, int line, const char *what) __attribute__((noreturn));

#define FUZZ_CHECK(cond) \
	do { \
		if (!(cond)) \
			fuzz_check_failed(__FILE__, __LINE__, #cond); \
	} while (0)

#endif
