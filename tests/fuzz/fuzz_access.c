/* See fuzz_access.h. tools/decode.c is included rather than linked: its
 * functions are static, and its main() would clash with libFuzzer's. */
int minicr_decode_main(int argc, char **argv);
#define main minicr_decode_main
#include "decode.c"
#undef main

#include "fuzz_access.h"

/* Provided by the sanitizer runtimes; absent in a build without them. */
extern void __sanitizer_report_error_summary(const char *msg) __attribute__((weak));

void fuzz_check_failed(const char *file, int line, const char *what)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "%s:%d: broken guarantee: %s", file, line, what);
	/* stderr is closed under -close_fd_mask; the summary goes where
	 * sanitizer reports go. */
	if (__sanitizer_report_error_summary)
		__sanitizer_report_error_summary(msg);
	else
		fprintf(stderr, "%s\n", msg);
	abort();
}

int fuzz_decode(const uint8_t *buf, size_t len, bool pretty, char **json, bool *raw)
{
	struct json_object *root = NULL;
	struct image img;
	const char *s;
	uint32_t magic;
	int flags, ret;

	*json = NULL;
	*raw = false;
	memset(&img, 0, sizeof(img));
	/* What image_open() and img_reader_open() do with a file. */
	ret = img_cursor_init(&img.r.cur, buf, len, &magic);
	if (ret)
		return ret;
	img.type = img_type_by_magic(magic);
	if (!img.type)
		return -EBADMSG;
	if (img.type->desc) {
		snprintf(img.r.path, sizeof(img.r.path), "fuzz-input.img");
		img.r.type = img.type;
		img.r.buf = (uint8_t *)buf;     /* never freed: no image_close() */
		img.r.len = len;
	} else {
		*raw = true;
		img.raw_bytes = len - IMG_HDR_SIZE;
	}
	ret = image_to_json(&img, &root);
	if (ret)
		return ret;
	/* As cmd_decode() prints it. */
	flags = JSON_C_TO_STRING_NOSLASHESCAPE |
		(pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN);
	s = json_object_to_json_string_ext(root, flags);
	*json = s ? strdup(s) : NULL;
	json_object_put(root);
	return *json ? 0 : -ENOMEM;
}

int fuzz_encode(const char *text, size_t len, uint8_t **img, size_t *img_len)
{
	struct json_object *root = NULL;
	struct outbuf o = { 0 };
	char err[256];
	int ret;

	*img = NULL;
	*img_len = 0;
	/* As cmd_encode() does after reading the file. */
	ret = pbjson_parse(text, len, &root, err, sizeof(err));
	if (!ret)
		ret = json_to_image("fuzz-input.json", root, &o);
	json_object_put(root);
	if (ret) {
		free(o.p);
		return ret;
	}
	*img = o.p;
	*img_len = o.len;
	return 0;
}

/* Walks the descriptors itself rather than trusting pbjson_from_msg(),
 * whose report of unknown fields is one of the things under test. */
bool fuzz_has_unknown(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	if (m->n_unknown_fields)
		return true;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *member = (const char *)m + f->offset;

		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
			ProtobufCMessage *const *arr = *(ProtobufCMessage *const *const *)member;

			for (size_t k = 0; k < n; k++)
				if (fuzz_has_unknown(arr[k]))
					return true;
			continue;
		}
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(const uint32_t *)((const char *)m + f->quantifier_offset) != f->id)
			continue;
		if (*(ProtobufCMessage *const *)member &&
		    fuzz_has_unknown(*(ProtobufCMessage *const *)member))
			return true;
	}
	return false;
}

static bool entry_canonical(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
			    uint32_t len)
{
	ProtobufCMessage *m = protobuf_c_message_unpack(desc, NULL, len, data);
	uint8_t *packed = NULL;
	bool ok = false;

	if (!m)
		return false;
	if (!fuzz_has_unknown(m) && protobuf_c_message_get_packed_size(m) == len) {
		packed = malloc(len ? len : 1);
		if (packed) {
			protobuf_c_message_pack(m, packed);
			ok = !memcmp(packed, data, len);
		}
	}
	free(packed);
	protobuf_c_message_free_unpacked(m, NULL);
	return ok;
}

bool fuzz_image_canonical(const uint8_t *buf, size_t len)
{
	const struct img_type *t;
	struct img_cursor c;
	const uint8_t *data;
	uint32_t magic, n;
	int ret;

	if (img_cursor_init(&c, buf, len, &magic))
		return false;
	t = img_type_by_magic(magic);
	if (!t || !t->desc)
		return false;
	while ((ret = img_cursor_next(&c, &data, &n)) > 0)
		if (!entry_canonical(t->desc, data, n))
			return false;
	return ret == 0;
}
