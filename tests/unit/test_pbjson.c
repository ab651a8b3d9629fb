/* pbjson: for every image type with a schema, a message with every field set
 * (filled by walking the descriptor, so new schemas are covered without
 * touching this file) must survive pack -> unpack -> JSON -> text -> JSON ->
 * message -> pack byte for byte. Then the ways a hand-edited JSON can be
 * wrong. If $MINICR_SOURCE_ROOT/images/ref holds a reference image set, each
 * of its entries is put through the same trip. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.pb-c.h"
#include "image.h"
#include "imgtypes.h"
#include "log.h"
#include "pbjson.h"
#include "util.h"

#define MEMBER(m, off) ((void *)((char *)(m) + (off)))

/* ---- filling a message generically ---- */

static size_t elem_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_ENUM:
		return sizeof(int);
	default:
		return 4;
	}
}

static ProtobufCMessage *fill_msg(const ProtobufCMessageDescriptor *d, unsigned seed, int depth);

/* Values chosen to hit the edges: sign, width limits, 0x00/0xff bytes,
 * JSON escapes and non-ASCII text. */
static void fill_value(const ProtobufCFieldDescriptor *f, void *dst, unsigned seed, int depth)
{
	static const int32_t i32[] = { -1, INT32_MIN, INT32_MAX, -123456 };
	static const uint32_t u32[] = { UINT32_MAX, 0x80000000u, 42, 0 };
	static const int64_t i64[] = { INT64_MIN, -1, INT64_MAX, -5000000000LL };
	static const uint64_t u64[] = { UINT64_MAX, 0x8000000000000000ull, 1,
					12345678901234567890ull };
	static const float f32[] = { -1.5f, FLT_MAX, 1e-40f, 0.1f };
	static const double f64[] = { -0.0, DBL_MAX, 5e-324, 0.1 };
	static const char *const str[] = { "a\"b\\c/d\n\t\x01 \xc3\xbc \xe6\x97\xa5", "",
					   "plain", "\xf0\x9f\x90\xa7" };
	static const uint8_t bytes[] = { 0x00, 0xff, 0x10, 0x7f, 0x80, 0x00 };
	const ProtobufCEnumDescriptor *ed;
	ProtobufCBinaryData *bd;
	unsigned k = seed % 4;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		*(int32_t *)dst = i32[k];
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		*(uint32_t *)dst = u32[k];
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		*(int64_t *)dst = i64[k];
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		*(uint64_t *)dst = u64[k];
		break;
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)dst = k & 1;
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		*(float *)dst = f32[k];
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		*(double *)dst = f64[k];
		break;
	case PROTOBUF_C_TYPE_ENUM:
		ed = f->descriptor;
		*(int *)dst = ed->values[seed % ed->n_values].value;
		break;
	case PROTOBUF_C_TYPE_STRING:
		*(char **)dst = strdup(str[k]);
		assert_non_null(*(char **)dst);
		break;
	case PROTOBUF_C_TYPE_BYTES:
		bd = dst;
		bd->len = k == 3 ? 0 : sizeof(bytes) - k;
		bd->data = bd->len ? malloc(bd->len) : NULL;
		if (bd->len)
			memcpy(bd->data, bytes, bd->len);
		break;
	case PROTOBUF_C_TYPE_MESSAGE:
		*(ProtobufCMessage **)dst = fill_msg(f->descriptor, seed + 1, depth - 1);
		break;
	}
}

/* Members of the oneof that field i belongs to: how many, and which of
 * them field i is. */
static unsigned oneof_members(const ProtobufCMessageDescriptor *d, unsigned i, unsigned *pos)
{
	unsigned n = 0;

	for (unsigned j = 0; j < d->n_fields; j++) {
		if (!(d->fields[j].flags & PROTOBUF_C_FIELD_FLAG_ONEOF) ||
		    d->fields[j].quantifier_offset != d->fields[i].quantifier_offset)
			continue;
		if (j == i)
			*pos = n;
		n++;
	}
	return n;
}

/* Allocated like protobuf_c_message_unpack() does, so that
 * protobuf_c_message_free_unpacked() frees it. */
static ProtobufCMessage *fill_msg(const ProtobufCMessageDescriptor *d, unsigned seed, int depth)
{
	ProtobufCMessage *m = malloc(d->sizeof_message);

	assert_non_null(m);
	protobuf_c_message_init(d, m);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		void *member = MEMBER(m, f->offset);
		unsigned s = seed + i;

		/* Recursive schemas: stop where the field may be left out. */
		if (f->type == PROTOBUF_C_TYPE_MESSAGE && depth <= 0 &&
		    f->label != PROTOBUF_C_LABEL_REQUIRED)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = 2 + s % 2, esz = elem_size(f->type);
			char *arr = calloc(n, esz);

			assert_non_null(arr);
			for (size_t j = 0; j < n; j++)
				fill_value(f, arr + j * esz, s + j, depth);
			*(char **)member = arr;
			*(size_t *)MEMBER(m, f->quantifier_offset) = n;
			continue;
		}
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			unsigned pos = 0, n = oneof_members(d, i, &pos);

			if (pos != seed % n)
				continue;       /* one member per oneof, by seed */
			*(uint32_t *)MEMBER(m, f->quantifier_offset) = f->id;
		}
		fill_value(f, member, s, depth);
		if (f->label == PROTOBUF_C_LABEL_OPTIONAL &&
		    !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
			*(protobuf_c_boolean *)MEMBER(m, f->quantifier_offset) = 1;
	}
	return m;
}

/* Fields that go to JSON: all but the unchosen members of each oneof. */
static int expected_keys(const ProtobufCMessageDescriptor *d)
{
	int n = 0;

	for (unsigned i = 0; i < d->n_fields; i++) {
		bool unchosen = false;

		/* fill_msg() chooses the first member of each oneof. */
		for (unsigned j = 0; j < i && (d->fields[i].flags & PROTOBUF_C_FIELD_FLAG_ONEOF); j++)
			if ((d->fields[j].flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
			    d->fields[j].quantifier_offset == d->fields[i].quantifier_offset)
				unchosen = true;
		n += !unchosen;
	}
	return n;
}

/* ---- the round trip ---- */

static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
	uint8_t *buf;

	*len = protobuf_c_message_get_packed_size(m);
	buf = malloc(*len ? *len : 1);
	assert_non_null(buf);
	assert_int_equal(protobuf_c_message_pack(m, buf), *len);
	return buf;
}

/* packed bytes -> message -> JSON text -> message -> the same bytes. */
static void trip_bytes(const ProtobufCMessageDescriptor *d, const uint8_t *bytes, size_t len,
		       bool pretty, int want_keys)
{
	ProtobufCMessage *u, *back;
	struct json_object *j, *parsed;
	const char *text;
	char err[512];
	uint8_t *again;
	size_t len2;
	int ret;

	u = protobuf_c_message_unpack(d, NULL, len, bytes);
	assert_non_null(u);
	assert_int_equal(pbjson_from_msg(u, &j), 0);
	if (want_keys >= 0)
		assert_int_equal(json_object_object_length(j), want_keys);
	text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_NOSLASHESCAPE |
					      (pretty ? JSON_C_TO_STRING_PRETTY : JSON_C_TO_STRING_PLAIN));
	ret = pbjson_parse(text, strlen(text), &parsed, err, sizeof(err));
	if (ret)
		fail_msg("%s: parse: %s\n%s", d->name, err, text);
	ret = pbjson_to_msg(d, parsed, "entry", &back, err, sizeof(err));
	if (ret)
		fail_msg("%s: %s\n%s", d->name, err, text);
	assert_true(protobuf_c_message_check(back));
	again = pack(back, &len2);
	if (len2 != len || memcmp(again, bytes, len))
		fail_msg("%s: %zu bytes in, %zu out, differ\n%s", d->name, len, len2, text);
	free(again);
	protobuf_c_message_free_unpacked(back, NULL);
	protobuf_c_message_free_unpacked(u, NULL);
	json_object_put(parsed);
	json_object_put(j);
}

static void trip_msg(const ProtobufCMessage *m, bool pretty, int want_keys)
{
	size_t len;
	uint8_t *bytes = pack(m, &len);

	trip_bytes(m->descriptor, bytes, len, pretty, want_keys);
	free(bytes);
}

static void test_every_type_full(void **state)
{
	unsigned covered = 0;

	(void)state;
	for (unsigned k = 0; k < IMG_NR_KINDS; k++) {
		const ProtobufCMessageDescriptor *d = img_types[k].desc;

		if (!d)
			continue;
		/* Several seeds so every field sees every edge value. */
		for (unsigned seed = 0; seed < 8; seed++) {
			ProtobufCMessage *m = fill_msg(d, seed, 4);

			assert_true(protobuf_c_message_check(m));
			trip_msg(m, seed & 1, expected_keys(d));
			protobuf_c_message_free_unpacked(m, NULL);
		}
		covered++;
	}
	assert_true(covered >= 3);
}

/* Only the required fields: absent optional fields must stay absent. */
static void test_every_type_minimal(void **state)
{
	(void)state;
	for (unsigned k = 0; k < IMG_NR_KINDS; k++) {
		const ProtobufCMessageDescriptor *d = img_types[k].desc;
		ProtobufCMessage *m;
		int req = 0;

		if (!d)
			continue;
		m = malloc(d->sizeof_message);
		assert_non_null(m);
		protobuf_c_message_init(d, m);
		for (unsigned i = 0; i < d->n_fields; i++) {
			if (d->fields[i].label != PROTOBUF_C_LABEL_REQUIRED)
				continue;
			fill_value(&d->fields[i], MEMBER(m, d->fields[i].offset), i, 2);
			req++;
		}
		trip_msg(m, false, req);
		protobuf_c_message_free_unpacked(m, NULL);
	}
}

/* ---- specific values ---- */

static CoreEntry *core_new(const char *comm)
{
	CoreEntry *c = malloc(sizeof(*c));

	assert_non_null(c);
	core_entry__init(c);
	c->pid = 42;
	c->comm = strdup(comm);
	c->state = TASK_STATE__TASK_SLEEPING;
	return c;
}

/* Not valid UTF-8, as a comm can be: passed through byte for byte. */
static void test_invalid_utf8(void **state)
{
	CoreEntry *c = core_new("\xff\xfe\x80-x");

	(void)state;
	trip_msg(&c->base, false, 3);
	protobuf_c_message_free_unpacked(&c->base, NULL);
}

/* An enum value is its name; one the schema does not name comes out as a
 * number and goes back in as that number. */
static void test_unnamed_enum_value(void **state)
{
	CoreEntry *c = core_new("x");
	struct json_object *j, *st;

	(void)state;
	assert_int_equal(pbjson_from_msg(&c->base, &j), 0);
	assert_true(json_object_object_get_ex(j, "state", &st));
	assert_string_equal(json_object_get_string(st), "TASK_SLEEPING");
	json_object_put(j);
	c->state = 99;
	assert_int_equal(pbjson_from_msg(&c->base, &j), 0);
	assert_true(json_object_object_get_ex(j, "state", &st));
	assert_true(json_object_is_type(st, json_type_int));
	assert_int_equal(json_object_get_int(st), 99);
	json_object_put(j);
	trip_msg(&c->base, false, 3);
	protobuf_c_message_free_unpacked(&c->base, NULL);
}

/* Fields the schema does not know cannot be carried: reported, not lost
 * silently. */
static void test_unknown_wire_fields(void **state)
{
	CoreEntry *c = core_new("x");
	ProtobufCMessage *u;
	struct json_object *j;
	uint8_t *bytes, *ext;
	size_t len;

	(void)state;
	bytes = pack(&c->base, &len);
	ext = malloc(len + 3);
	memcpy(ext, bytes, len);
	/* field 1000, varint 1: tag (1000 << 3 | 0) = 8000 = 0xc0 0x3e */
	ext[len] = 0xc0;
	ext[len + 1] = 0x3e;
	ext[len + 2] = 0x01;
	u = protobuf_c_message_unpack(&core_entry__descriptor, NULL, len + 3, ext);
	assert_non_null(u);
	assert_int_equal(pbjson_from_msg(u, &j), -EPROTO);
	assert_non_null(j);
	json_object_put(j);
	protobuf_c_message_free_unpacked(u, NULL);
	free(ext);
	free(bytes);
	protobuf_c_message_free_unpacked(&c->base, NULL);
}

/* ---- errors ---- */

/* Parse text and convert it to a CoreEntry: the return value, and err. */
static int core_from(const char *text, char *err, size_t errlen)
{
	struct json_object *j;
	ProtobufCMessage *m = (ProtobufCMessage *)1;
	int ret;

	ret = pbjson_parse(text, strlen(text), &j, err, errlen);
	if (ret)
		return ret;
	ret = pbjson_to_msg(&core_entry__descriptor, j, "entries[3]", &m, err, errlen);
	json_object_put(j);
	if (ret) {
		assert_null(m);
		return ret;
	}
	assert_true(protobuf_c_message_check(m));
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}

#define BASE "\"pid\": 1, \"comm\": \"c\", \"state\": \"TASK_RUNNING\""

static void expect_error(const char *text, const char *in_err)
{
	char err[512];

	err[0] = '\0';
	if (core_from(text, err, sizeof(err)) != -EINVAL)
		fail_msg("accepted: %s", text);
	if (!strstr(err, in_err))
		fail_msg("error \"%s\" lacks \"%s\" for %s", err, in_err, text);
}

static void expect_ok(const char *text)
{
	char err[512] = "";

	if (core_from(text, err, sizeof(err)))
		fail_msg("refused: %s: %s", text, err);
}

static void test_accepts(void **state)
{
	(void)state;
	expect_ok("{" BASE "}");
	expect_ok("{\"pid\": 1, \"comm\": \"c\", \"state\": 4}");          /* enum by number */
	expect_ok("{" BASE ", \"start_time\": 18446744073709551615}");
	expect_ok("{" BASE ", \"exit_code\": -2147483648}");
	expect_ok("{" BASE ", \"shared_pending\": [\"00FFaB\", \"\"]}");  /* either case */
	expect_ok("{" BASE ", \"threads\": []}");
	expect_ok("  {" BASE "}\n\n");
}

static void test_unknown_key(void **state)
{
	(void)state;
	expect_error("{" BASE ", \"bogus\": 1}", "entries[3].bogus: CoreEntry has no such field");
	expect_error("{" BASE ", \"threads\": [{\"tid\": 1, \"nope\": 2}]}",
		     "entries[3].threads[0].nope:");
}

static void test_wrong_type(void **state)
{
	(void)state;
	expect_error("{\"pid\": \"1\", \"comm\": \"c\", \"state\": 1}",
		     "entries[3].pid: expected an integer, got string");
	expect_error("{\"pid\": 1.5, \"comm\": \"c\", \"state\": 1}", "entries[3].pid: expected an integer");
	expect_error("{\"pid\": 1, \"comm\": 5, \"state\": 1}", "entries[3].comm: expected a string");
	expect_error("{" BASE ", \"core_dumped\": 1}", "core_dumped: expected true or false");
	expect_error("{" BASE ", \"threads\": {}}", "threads: expected an array");
	expect_error("{" BASE ", \"threads\": [1]}", "threads[0]: expected a ThreadCoreEntry object");
	expect_error("{" BASE ", \"exit_code\": null}", "exit_code: null is not allowed");
	expect_error("{\"pid\": 1, \"comm\": \"c\", \"state\": \"TASK_NAPPING\"}",
		     "state: \"TASK_NAPPING\" is not a TaskState value");
	expect_error("{\"pid\": 1, \"comm\": \"c\", \"state\": true}", "state: expected a TaskState name");
	expect_error("{\"pid\": 1, \"comm\": \"a\\u0000b\", \"state\": 1}", "comm: string contains a NUL");
	expect_error("[1]", "entries[3]: expected a CoreEntry object, got array");
}

static void test_out_of_range(void **state)
{
	(void)state;
	expect_error("{\"pid\": 2147483648, \"comm\": \"c\", \"state\": 1}", "pid: 2147483648 out of range");
	expect_error("{\"pid\": -2147483649, \"comm\": \"c\", \"state\": 1}", "pid: -2147483649 out of range");
	expect_error("{" BASE ", \"umask\": -1}", "umask: -1 out of range");
	expect_error("{" BASE ", \"umask\": 4294967296}", "umask: 4294967296 out of range");
	expect_error("{" BASE ", \"start_time\": -1}", "start_time: -1 out of range");
	expect_error("{\"pid\": 1, \"comm\": \"c\", \"state\": 4294967296}", "state: 4294967296 out of range");
	/* Beyond 64 bits json-c would clamp; the parser catches it. */
	expect_error("{" BASE ", \"start_time\": 18446744073709551616}", "integer outside the 64-bit range");
	expect_error("{" BASE ", \"exit_code\": -9223372036854775809}", "integer outside the 64-bit range");
}

static void test_missing_required(void **state)
{
	(void)state;
	expect_error("{\"pid\": 1, \"state\": 1}", "entries[3].comm: required field of CoreEntry is missing");
	expect_error("{" BASE ", \"threads\": [{\"tid\": 1}, {\"comm\": \"t\"}]}",
		     "entries[3].threads[1].tid: required field");
}

static void test_bad_hex(void **state)
{
	(void)state;
	expect_error("{" BASE ", \"shared_pending\": [\"00\", \"0g\"]}",
		     "shared_pending[1]: bad hex digit at position 1");
	expect_error("{" BASE ", \"shared_pending\": [\"abc\"]}", "shared_pending[0]: hex string has an odd");
	expect_error("{" BASE ", \"shared_pending\": [\"0x00\"]}", "bad hex digit at position 1");
	expect_error("{" BASE ", \"shared_pending\": [12]}", "expected a hex string");
}

static int parse_str(const char *text, size_t len, char *err, size_t errlen)
{
	struct json_object *j = (struct json_object *)1;
	int ret = pbjson_parse(text, len, &j, err, errlen);

	if (ret)
		assert_null(j);
	json_object_put(j);
	return ret;
}

static void test_bad_json(void **state)
{
	static const char with_nul[] = "{\"a\": 1}\0";
	char err[256];

	(void)state;
	assert_int_equal(parse_str("{\"a\": 1} x", 10, err, sizeof(err)), -EINVAL);
	assert_int_equal(parse_str("{\"a\": 1", 7, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unexpected end"));
	assert_int_equal(parse_str(with_nul, sizeof(with_nul) - 1, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "offset 8: NUL byte"));
	assert_int_equal(parse_str("null", 4, err, sizeof(err)), -EINVAL);
	assert_int_equal(parse_str("{\"a\": [1,]}", 11, err, sizeof(err)), -EINVAL);
	/* Digits inside a string are not a number. */
	assert_int_equal(parse_str("{\"a\": \"99999999999999999999\"}",
				   strlen("{\"a\": \"99999999999999999999\"}"), err, sizeof(err)), 0);
}

/* ---- a schema with every type, label and a oneof ----
 *
 * The image schemas use no float, no oneof and no proto3 field, so this
 * hand-written descriptor (what protoc-c would generate for the message
 * below) covers the rest of pbjson:
 *
 *   enum Kind { K_NEG = -5; K_ONE = 1; K_TWO = 2; }
 *   message Leaf { required int32 v = 1; }
 *   message Kitchen {
 *     required int32 r_int32 = 1; ... required bytes r_bytes = 16;  (one per type)
 *     optional float o_float = 17; optional Kind o_enum = 18;
 *     optional bytes o_bytes = 19; optional string o_string = 20;
 *     optional Kitchen o_msg = 21;
 *     repeated sint64 p_sint64 = 22 [packed]; repeated double p_double = 23 [packed];
 *     repeated Kind p_enum = 24 [packed]; repeated bool p_bool = 25 [packed];
 *     repeated fixed32 u_fixed32 = 26; repeated string u_string = 27;
 *     repeated bytes u_bytes = 28; repeated Kitchen u_msg = 29;
 *     oneof one { int32 one_int = 30; string one_str = 31; Kitchen one_msg = 32; }
 *     int32 n3_int32 = 33; string n3_string = 34;   (proto3, no presence)
 *     required Leaf r_leaf = 35;
 *   } */

typedef struct Leaf {
	ProtobufCMessage base;
	int32_t v;
} Leaf;

typedef struct Kitchen Kitchen;
struct Kitchen {
	ProtobufCMessage base;
	int32_t r_int32, r_sint32, r_sfixed32;
	uint32_t r_uint32, r_fixed32;
	int64_t r_int64, r_sint64, r_sfixed64;
	uint64_t r_uint64, r_fixed64;
	protobuf_c_boolean r_bool;
	float r_float;
	double r_double;
	int r_enum;
	char *r_string;
	ProtobufCBinaryData r_bytes;
	protobuf_c_boolean has_o_float;
	float o_float;
	protobuf_c_boolean has_o_enum;
	int o_enum;
	protobuf_c_boolean has_o_bytes;
	ProtobufCBinaryData o_bytes;
	char *o_string;
	Kitchen *o_msg;
	size_t n_p_sint64;
	int64_t *p_sint64;
	size_t n_p_double;
	double *p_double;
	size_t n_p_enum;
	int *p_enum;
	size_t n_p_bool;
	protobuf_c_boolean *p_bool;
	size_t n_u_fixed32;
	uint32_t *u_fixed32;
	size_t n_u_string;
	char **u_string;
	size_t n_u_bytes;
	ProtobufCBinaryData *u_bytes;
	size_t n_u_msg;
	Kitchen **u_msg;
	uint32_t one_case;
	union {
		int32_t one_int;
		char *one_str;
		Kitchen *one_msg;
	};
	int32_t n3_int32;
	char *n3_string;
	Leaf *r_leaf;
};

static const ProtobufCEnumValue kind_values[] = {
	{ "K_NEG", "K_NEG", -5 }, { "K_ONE", "K_ONE", 1 }, { "K_TWO", "K_TWO", 2 },
};
static const ProtobufCEnumValueIndex kind_by_name[] = {
	{ "K_NEG", 0 }, { "K_ONE", 1 }, { "K_TWO", 2 },
};
static const ProtobufCIntRange kind_ranges[] = { { -5, 0 }, { 1, 1 }, { 0, 3 } };
static const ProtobufCEnumDescriptor kind_desc = {
	PROTOBUF_C__ENUM_DESCRIPTOR_MAGIC, "Kind", "Kind", "Kind", "",
	3, kind_values, 3, kind_by_name, 2, kind_ranges, NULL, NULL, NULL, NULL
};

static void leaf_init(ProtobufCMessage *m);
static const ProtobufCFieldDescriptor leaf_fields[] = {
	{ "v", 1, PROTOBUF_C_LABEL_REQUIRED, PROTOBUF_C_TYPE_INT32, 0, offsetof(Leaf, v),
	  NULL, NULL, 0, 0, NULL, NULL },
};
static const unsigned leaf_by_name[] = { 0 };
static const ProtobufCIntRange leaf_ranges[] = { { 1, 0 }, { 0, 1 } };
static const ProtobufCMessageDescriptor leaf_desc = {
	PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC, "Leaf", "Leaf", "Leaf", "", sizeof(Leaf),
	1, leaf_fields, leaf_by_name, 1, leaf_ranges,
	(ProtobufCMessageInit)leaf_init, NULL, NULL, NULL
};

static void leaf_init(ProtobufCMessage *m)
{
	memset(m, 0, sizeof(Leaf));
	m->descriptor = &leaf_desc;
}

static const ProtobufCMessageDescriptor kitchen_desc;

#define K(name, id, label, type, q, desc, flags) \
	{ #name, id, PROTOBUF_C_LABEL_##label, PROTOBUF_C_TYPE_##type, q, \
	  offsetof(Kitchen, name), desc, NULL, flags, 0, NULL, NULL }
#define KREQ(name, id, type) K(name, id, REQUIRED, type, 0, NULL, 0)
#define KOPT(name, id, type, desc) K(name, id, OPTIONAL, type, offsetof(Kitchen, has_##name), desc, 0)
#define KPTR(name, id, type, desc) K(name, id, OPTIONAL, type, 0, desc, 0)
#define KREP(name, id, type, desc, flags) \
	K(name, id, REPEATED, type, offsetof(Kitchen, n_##name), desc, flags)
#define KONE(name, id, type, desc) \
	K(name, id, OPTIONAL, type, offsetof(Kitchen, one_case), desc, PROTOBUF_C_FIELD_FLAG_ONEOF)

static const ProtobufCFieldDescriptor kitchen_fields[] = {
	KREQ(r_int32, 1, INT32), KREQ(r_sint32, 2, SINT32), KREQ(r_sfixed32, 3, SFIXED32),
	KREQ(r_uint32, 4, UINT32), KREQ(r_fixed32, 5, FIXED32), KREQ(r_int64, 6, INT64),
	KREQ(r_sint64, 7, SINT64), KREQ(r_sfixed64, 8, SFIXED64), KREQ(r_uint64, 9, UINT64),
	KREQ(r_fixed64, 10, FIXED64), KREQ(r_bool, 11, BOOL), KREQ(r_float, 12, FLOAT),
	KREQ(r_double, 13, DOUBLE), K(r_enum, 14, REQUIRED, ENUM, 0, &kind_desc, 0),
	KREQ(r_string, 15, STRING), KREQ(r_bytes, 16, BYTES),
	KOPT(o_float, 17, FLOAT, NULL), KOPT(o_enum, 18, ENUM, &kind_desc),
	KOPT(o_bytes, 19, BYTES, NULL), KPTR(o_string, 20, STRING, NULL),
	KPTR(o_msg, 21, MESSAGE, &kitchen_desc),
	KREP(p_sint64, 22, SINT64, NULL, PROTOBUF_C_FIELD_FLAG_PACKED),
	KREP(p_double, 23, DOUBLE, NULL, PROTOBUF_C_FIELD_FLAG_PACKED),
	KREP(p_enum, 24, ENUM, &kind_desc, PROTOBUF_C_FIELD_FLAG_PACKED),
	KREP(p_bool, 25, BOOL, NULL, PROTOBUF_C_FIELD_FLAG_PACKED),
	KREP(u_fixed32, 26, FIXED32, NULL, 0), KREP(u_string, 27, STRING, NULL, 0),
	KREP(u_bytes, 28, BYTES, NULL, 0), KREP(u_msg, 29, MESSAGE, &kitchen_desc, 0),
	KONE(one_int, 30, INT32, NULL), KONE(one_str, 31, STRING, NULL),
	KONE(one_msg, 32, MESSAGE, &kitchen_desc),
	K(n3_int32, 33, NONE, INT32, 0, NULL, 0), K(n3_string, 34, NONE, STRING, 0, NULL, 0),
	K(r_leaf, 35, REQUIRED, MESSAGE, 0, &leaf_desc, 0),
};
#define N_KITCHEN (sizeof(kitchen_fields) / sizeof(kitchen_fields[0]))

static unsigned kitchen_by_name[N_KITCHEN];
static const ProtobufCIntRange kitchen_ranges[] = { { 1, 0 }, { 0, N_KITCHEN } };

static void kitchen_init(ProtobufCMessage *m);
static const ProtobufCMessageDescriptor kitchen_desc = {
	PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC, "Kitchen", "Kitchen", "Kitchen", "",
	sizeof(Kitchen), N_KITCHEN, kitchen_fields, kitchen_by_name, 1, kitchen_ranges,
	(ProtobufCMessageInit)kitchen_init, NULL, NULL, NULL
};

static void kitchen_init(ProtobufCMessage *m)
{
	memset(m, 0, sizeof(Kitchen));
	m->descriptor = &kitchen_desc;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(kitchen_fields[*(const unsigned *)a].name,
		      kitchen_fields[*(const unsigned *)b].name);
}

static int kitchen_setup(void **state)
{
	(void)state;
	for (unsigned i = 0; i < N_KITCHEN; i++)
		kitchen_by_name[i] = i;
	qsort(kitchen_by_name, N_KITCHEN, sizeof(unsigned), by_name);
	return 0;
}

static void test_kitchen_full(void **state)
{
	(void)state;
	for (unsigned seed = 0; seed < 12; seed++) {
		ProtobufCMessage *m = fill_msg(&kitchen_desc, seed, 3);

		assert_true(protobuf_c_message_check(m));
		trip_msg(m, seed & 1, expected_keys(&kitchen_desc));
		protobuf_c_message_free_unpacked(m, NULL);
	}
}

/* Parse text into a Kitchen: the return value, and err. */
static int kitchen_from(const char *text, char *err, size_t errlen)
{
	struct json_object *j;
	ProtobufCMessage *m = NULL;
	int ret;

	ret = pbjson_parse(text, strlen(text), &j, err, errlen);
	if (ret)
		return ret;
	ret = pbjson_to_msg(&kitchen_desc, j, NULL, &m, err, errlen);
	json_object_put(j);
	if (!ret)
		protobuf_c_message_free_unpacked(m, NULL);
	return ret;
}

#define KBASE "\"r_int32\": 0, \"r_sint32\": 0, \"r_sfixed32\": 0, \"r_uint32\": 0, " \
	"\"r_fixed32\": 0, \"r_int64\": 0, \"r_sint64\": 0, \"r_sfixed64\": 0, " \
	"\"r_uint64\": 0, \"r_fixed64\": 0, \"r_bool\": false, \"r_float\": 0, " \
	"\"r_double\": 0, \"r_enum\": \"K_ONE\", \"r_string\": \"\", \"r_bytes\": \"\", " \
	"\"r_leaf\": {\"v\": 1}"

static void kitchen_expect(const char *text, int want, const char *in_err)
{
	char err[512] = "";
	int ret = kitchen_from(text, err, sizeof(err));

	if (ret != want)
		fail_msg("%d (want %d) for %s: %s", ret, want, text, err);
	if (in_err && !strstr(err, in_err))
		fail_msg("error \"%s\" lacks \"%s\" for %s", err, in_err, text);
}

static void test_kitchen_errors(void **state)
{
	(void)state;
	kitchen_expect("{" KBASE "}", 0, NULL);
	kitchen_expect("{" KBASE ", \"r_float\": 1.5, \"r_double\": -1e300, \"o_enum\": -5, "
		       "\"p_enum\": [\"K_NEG\", 2, -5], \"one_msg\": {" KBASE "}}", 0, NULL);
	kitchen_expect("{" KBASE ", \"r_float\": NaN, \"r_double\": -Infinity}", 0, NULL);
	kitchen_expect("{" KBASE ", \"one_int\": 1, \"one_str\": \"x\"}", -EINVAL,
		       "one_str: is in the same oneof as \"one_int\"");
	kitchen_expect("{" KBASE ", \"o_float\": 1e39}", -EINVAL, "o_float: 1e39 out of range for float");
	kitchen_expect("{" KBASE ", \"o_float\": \"1\"}", -EINVAL, "o_float: expected a number");
	kitchen_expect("{" KBASE ", \"r_sint32\": 2147483648}", -EINVAL, "r_sint32: 2147483648 out of range");
	kitchen_expect("{" KBASE ", \"r_fixed64\": -1}", -EINVAL, "r_fixed64: -1 out of range");
	kitchen_expect("{" KBASE ", \"p_bool\": [true, 0]}", -EINVAL, "p_bool[1]: expected true or false");
	kitchen_expect("{" KBASE ", \"u_msg\": [{" KBASE "}, {" KBASE ", \"r_leaf\": {}}]}", -EINVAL,
		       "u_msg[1].r_leaf.v: required field of Leaf is missing");
	kitchen_expect("{\"r_leaf\": {\"v\": 1}}", -EINVAL, "r_int32: required field of Kitchen is missing");
}

/* ---- the reference image set ---- */

static void trip_file(int dirfd, const char *name)
{
	const struct img_type *t;
	struct img_cursor c;
	const uint8_t *data;
	uint32_t magic, len;
	char *buf;
	size_t size;
	int ret;

	assert_int_equal(read_file_at(dirfd, name, IMG_MAX_FILE, &buf, &size), 0);
	assert_int_equal(img_cursor_init(&c, (uint8_t *)buf, size, &magic), 0);
	t = img_type_by_magic(magic);
	if (!t)
		fail_msg("%s: unknown magic", name);
	if (t->desc) {
		while ((ret = img_cursor_next(&c, &data, &len)) == 1)
			trip_bytes(t->desc, data, len, false, -1);
		assert_int_equal(ret, 0);
	}
	free(buf);
}

static void test_reference_images(void **state)
{
	const char *root = getenv("MINICR_SOURCE_ROOT");
	char path[4096];
	struct dirent *de;
	unsigned n = 0;
	DIR *dir;

	(void)state;
	if (!root)
		skip();
	snprintf(path, sizeof(path), "%s/images/ref", root);
	dir = opendir(path);
	if (!dir)
		skip();
	while ((de = readdir(dir))) {
		size_t l = strlen(de->d_name);

		if (l > 4 && !strcmp(de->d_name + l - 4, ".img")) {
			trip_file(dirfd(dir), de->d_name);
			n++;
		}
	}
	closedir(dir);
	print_message("%u reference images round-tripped\n", n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_type_full),
		cmocka_unit_test(test_every_type_minimal),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_unnamed_enum_value),
		cmocka_unit_test(test_unknown_wire_fields),
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_wrong_type),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_bad_hex),
		cmocka_unit_test(test_bad_json),
		cmocka_unit_test(test_reference_images),
		cmocka_unit_test(test_kitchen_full),
		cmocka_unit_test(test_kitchen_errors),
	};

	log_init("test-pbjson", 0);
	return cmocka_run_group_tests(tests, kitchen_setup, NULL);
}
