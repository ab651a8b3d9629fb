/* See fuzz_access.h. tools/decode.c is included rather than linked: its
 * functions are static, and its main() would clash with libFuzzer's. */
int minicr_decode_main(int argc, char **argv);
#define main minicr_decode_main
#include "decode.c"
#undef main

#include <sys/mman.h>

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

const char *fuzz_as_file(const uint8_t *buf, size_t len)
{
	static char path[64];
	static int fd = -1;

	if (fd < 0) {
		fd = memfd_create("minicr-fuzz-input", MFD_CLOEXEC);
		FUZZ_CHECK(fd >= 0);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	FUZZ_CHECK(ftruncate(fd, 0) == 0);
	FUZZ_CHECK(pwrite(fd, buf, len, 0) == (ssize_t)len);
	return path;
}

/* What `show` relies on before it prints: order[] lists every task once, a
 * parent before its children, depth one more than the parent's; a task is
 * a root exactly when its ppid is its own pid or no task's pid. */
static void check_tree_order(const struct tree *tr, const long *order)
{
	long *pos = malloc((tr->nr ? tr->nr : 1) * sizeof(long));

	FUZZ_CHECK(pos);
	for (size_t i = 0; i < tr->nr; i++)
		pos[i] = -1;
	for (size_t i = 0; i < tr->nr; i++) {
		FUZZ_CHECK(order[i] >= 0 && (size_t)order[i] < tr->nr && pos[order[i]] < 0);
		pos[order[i]] = i;
	}
	for (size_t i = 0; i < tr->nr; i++) {
		const struct task *t = &tr->t[i];
		long p = t->parent;

		if (p < 0) {
			FUZZ_CHECK(t->depth == 0);
			FUZZ_CHECK(t->ps->ppid == t->ps->pid || find_pid(tr, t->ps->ppid) < 0);
			continue;
		}
		FUZZ_CHECK((size_t)p < tr->nr && tr->t[p].ps->pid == t->ps->ppid);
		FUZZ_CHECK(t->ps->ppid != t->ps->pid);
		FUZZ_CHECK(pos[p] < pos[i] && t->depth == tr->t[p].depth + 1);
	}
	free(pos);
}

int fuzz_show_tree(const uint8_t *buf, size_t len)
{
	const char *path = fuzz_as_file(buf, len);
	struct tree tr = { 0 };
	long *order = NULL;
	int ret;

	/* cmd_show() up to tree_print(), which then reads core images. */
	ret = tree_load(path, &tr);
	if (!ret)
		ret = tree_link(path, &tr);
	if (!ret) {
		order = malloc((tr.nr ? tr.nr : 1) * sizeof(long));
		FUZZ_CHECK(order);
		ret = tree_order(path, &tr, order);
	}
	if (!ret)
		check_tree_order(&tr, order);
	free(order);
	tree_free(&tr);
	return ret;
}
