#include "pbjson.h"

#include <errno.h>
#include <limits.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where a field lives inside the generated C struct. */
#define MEMBER(m, off) ((void *)((char *)(m) + (off)))
#define CMEMBER(m, off) ((const void *)((const char *)(m) + (off)))

static bool is_pointer_type(const ProtobufCFieldDescriptor *f)
{
	return f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE;
}

static size_t elem_size(ProtobufCType type)
{
	switch (type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return sizeof(int32_t);
	case PROTOBUF_C_TYPE_ENUM:
		return sizeof(int);
	case PROTOBUF_C_TYPE_FLOAT:
		return sizeof(float);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return sizeof(int64_t);
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	}
	return 0;
}

/* Mirrors protobuf-c's own pack rules (required/optional/oneof_field_pack),
 * so that exactly the fields that reach the wire reach the JSON. */
static bool field_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const void *member = CMEMBER(m, f->offset);
	const void *ptr = is_pointer_type(f) ? *(const void *const *)member : NULL;

	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const size_t *)CMEMBER(m, f->quantifier_offset) > 0;
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		if (*(const uint32_t *)CMEMBER(m, f->quantifier_offset) != f->id)
			return false;
		return !is_pointer_type(f) || (ptr && ptr != f->default_value);
	}
	switch (f->label) {
	case PROTOBUF_C_LABEL_REQUIRED:
		return true;
	case PROTOBUF_C_LABEL_OPTIONAL:
		if (is_pointer_type(f))
			return ptr && ptr != f->default_value;
		return *(const protobuf_c_boolean *)CMEMBER(m, f->quantifier_offset);
	default:
		/* proto3 implicit presence: print the value, zero or empty
		 * or not; only a message can be really absent. */
		return f->type != PROTOBUF_C_TYPE_MESSAGE || ptr;
	}
}

/* ---- message -> JSON ---- */

struct to_json {
	bool unknown;   /* some message on the way held unknown fields */
};

static int msg_to_json(struct to_json *tj, const ProtobufCMessage *m, struct json_object **out);

static struct json_object *hex_to_json(const ProtobufCBinaryData *bd)
{
	static const char digits[] = "0123456789abcdef";
	struct json_object *o;
	char *s = malloc(bd->len * 2 + 1);

	if (!s)
		return NULL;
	for (size_t i = 0; i < bd->len; i++) {
		s[2 * i] = digits[bd->data[i] >> 4];
		s[2 * i + 1] = digits[bd->data[i] & 15];
	}
	s[bd->len * 2] = '\0';
	o = json_object_new_string_len(s, bd->len * 2);
	free(s);
	return o;
}

static struct json_object *enum_to_json(const ProtobufCFieldDescriptor *f, int v)
{
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);

	/* A value the schema does not name still has to survive the trip. */
	return ev ? json_object_new_string(ev->name) : json_object_new_int64(v);
}

static int value_to_json(struct to_json *tj, const ProtobufCFieldDescriptor *f,
			 const void *p, struct json_object **out)
{
	const char *s;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		*out = json_object_new_int64(*(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		*out = json_object_new_int64(*(const uint32_t *)p);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		*out = json_object_new_int64(*(const int64_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		*out = json_object_new_uint64(*(const uint64_t *)p);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		*out = json_object_new_boolean(*(const protobuf_c_boolean *)p);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		*out = json_object_new_double(*(const float *)p);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		*out = json_object_new_double(*(const double *)p);
		break;
	case PROTOBUF_C_TYPE_ENUM:
		*out = enum_to_json(f, *(const int *)p);
		break;
	case PROTOBUF_C_TYPE_STRING:
		s = *(const char *const *)p;
		*out = json_object_new_string(s ? s : "");
		break;
	case PROTOBUF_C_TYPE_BYTES:
		*out = hex_to_json(p);
		break;
	case PROTOBUF_C_TYPE_MESSAGE:
		return msg_to_json(tj, *(const ProtobufCMessage *const *)p, out);
	default:
		return -EINVAL;
	}
	return *out ? 0 : -ENOMEM;
}

static int repeated_to_json(struct to_json *tj, const ProtobufCMessage *m,
			    const ProtobufCFieldDescriptor *f, struct json_object **out)
{
	size_t n = *(const size_t *)CMEMBER(m, f->quantifier_offset);
	const char *arr = *(const char *const *)CMEMBER(m, f->offset);
	size_t esz = elem_size(f->type);
	struct json_object *a, *v;
	int ret;

	a = json_object_new_array_ext(n);
	if (!a)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		ret = value_to_json(tj, f, arr + i * esz, &v);
		if (ret)
			goto err;
		if (json_object_array_add(a, v)) {
			json_object_put(v);
			ret = -ENOMEM;
			goto err;
		}
	}
	*out = a;
	return 0;
err:
	json_object_put(a);
	return ret;
}

static int msg_to_json(struct to_json *tj, const ProtobufCMessage *m, struct json_object **out)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	struct json_object *o, *v;
	int ret;

	if (m->n_unknown_fields)
		tj->unknown = true;
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		if (!field_present(m, f))
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED)
			ret = repeated_to_json(tj, m, f, &v);
		else
			ret = value_to_json(tj, f, CMEMBER(m, f->offset), &v);
		if (ret)
			goto err;
		if (json_object_object_add(o, f->name, v)) {
			json_object_put(v);
			ret = -ENOMEM;
			goto err;
		}
	}
	*out = o;
	return 0;
err:
	json_object_put(o);
	return ret;
}

int pbjson_from_msg(const ProtobufCMessage *msg, struct json_object **out)
{
	struct to_json tj = { .unknown = false };
	int ret;

	*out = NULL;
	ret = msg_to_json(&tj, msg, out);
	if (ret)
		return ret;
	return tj.unknown ? -EPROTO : 0;
}

/* ---- JSON -> message ---- */

struct from_json {
	char path[512];     /* "entries[2].threads[1]" */
	size_t plen;
	char *err;
	size_t errlen;
};

static int fail(struct from_json *fj, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct from_json *fj, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (fj->errlen)
		snprintf(fj->err, fj->errlen, "%s: %s", fj->plen ? fj->path : "(message)", msg);
	return -EINVAL;
}

static int oom(struct from_json *fj)
{
	if (fj->errlen)
		snprintf(fj->err, fj->errlen, "out of memory");
	return -ENOMEM;
}

/* Append to the path; the return value restores it via path_pop(). */
static size_t path_push(struct from_json *fj, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static size_t path_push(struct from_json *fj, const char *fmt, ...)
{
	size_t old = fj->plen;
	va_list ap;
	int n;

	if (old >= sizeof(fj->path) - 1)
		return old;
	va_start(ap, fmt);
	n = vsnprintf(fj->path + old, sizeof(fj->path) - old, fmt, ap);
	va_end(ap);
	if (n > 0)
		fj->plen = old + (size_t)n < sizeof(fj->path) ? old + (size_t)n : sizeof(fj->path) - 1;
	return old;
}

static void path_pop(struct from_json *fj, size_t old)
{
	fj->plen = old;
	fj->path[old] = '\0';
}

static const char *jtype(struct json_object *v)
{
	return json_type_to_name(json_object_get_type(v));
}

/* json-c holds an integer as int64 or uint64; read it without clamping. */
static int read_signed(struct from_json *fj, struct json_object *v,
		       int64_t min, int64_t max, int64_t *out)
{
	int64_t i;

	if (!json_object_is_type(v, json_type_int))
		return fail(fj, "expected an integer, got %s", jtype(v));
	i = json_object_get_int64(v);
	if ((i >= 0 && json_object_get_uint64(v) > (uint64_t)max) || i < min || i > max)
		return fail(fj, "%s out of range [%" PRId64 ", %" PRId64 "]",
			    json_object_get_string(v), min, max);
	*out = i;
	return 0;
}

static int read_unsigned(struct from_json *fj, struct json_object *v, uint64_t max, uint64_t *out)
{
	uint64_t u;

	if (!json_object_is_type(v, json_type_int))
		return fail(fj, "expected an integer, got %s", jtype(v));
	u = json_object_get_uint64(v);
	if (json_object_get_int64(v) < 0 || u > max)
		return fail(fj, "%s out of range [0, %" PRIu64 "]", json_object_get_string(v), max);
	*out = u;
	return 0;
}

static int read_double(struct from_json *fj, struct json_object *v, double limit, double *out)
{
	double d;

	if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
		return fail(fj, "expected a number, got %s", jtype(v));
	d = json_object_get_double(v);
	/* Converting an out-of-range double to float is undefined. */
	if (isfinite(d) && fabs(d) > limit)
		return fail(fj, "%s out of range for float", json_object_get_string(v));
	*out = d;
	return 0;
}

static int read_enum(struct from_json *fj, const ProtobufCFieldDescriptor *f,
		     struct json_object *v, int *out)
{
	const ProtobufCEnumDescriptor *ed = f->descriptor;
	const ProtobufCEnumValue *ev;
	int64_t i;
	int ret;

	if (json_object_is_type(v, json_type_int)) {
		ret = read_signed(fj, v, INT32_MIN, INT32_MAX, &i);
		if (ret)
			return ret;
		*out = (int)i;
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return fail(fj, "expected a %s name or number, got %s", ed->name, jtype(v));
	ev = protobuf_c_enum_descriptor_get_value_by_name(ed, json_object_get_string(v));
	if (!ev)
		return fail(fj, "\"%s\" is not a %s value", json_object_get_string(v), ed->name);
	*out = ev->value;
	return 0;
}

static int read_string(struct from_json *fj, struct json_object *v, char **out)
{
	const char *s;
	char *dup;

	if (!json_object_is_type(v, json_type_string))
		return fail(fj, "expected a string, got %s", jtype(v));
	s = json_object_get_string(v);
	/* protobuf-c strings are C strings: a NUL would silently cut it. */
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return fail(fj, "string contains a NUL character");
	dup = strdup(s);
	if (!dup)
		return oom(fj);
	*out = dup;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int read_bytes(struct from_json *fj, struct json_object *v, ProtobufCBinaryData *out)
{
	const char *s;
	size_t len;
	uint8_t *data = NULL;

	if (!json_object_is_type(v, json_type_string))
		return fail(fj, "expected a hex string, got %s", jtype(v));
	s = json_object_get_string(v);
	len = json_object_get_string_len(v);
	if (len % 2)
		return fail(fj, "hex string has an odd number of digits");
	for (size_t i = 0; i < len; i++)
		if (hexval(s[i]) < 0)
			return fail(fj, "bad hex digit at position %zu", i);
	if (len) {
		data = malloc(len / 2);
		if (!data)
			return oom(fj);
	}
	for (size_t i = 0; i < len / 2; i++)
		data[i] = hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1]);
	out->len = len / 2;
	out->data = data;
	return 0;
}

static int msg_from_json(struct from_json *fj, const ProtobufCMessageDescriptor *d,
			 struct json_object *obj, ProtobufCMessage **out);

/* Store one value at dst; on failure dst is untouched and nothing leaks. */
static int value_from_json(struct from_json *fj, const ProtobufCFieldDescriptor *f,
			   struct json_object *v, void *dst)
{
	int64_t i = 0;
	uint64_t u = 0;
	double d = 0;
	int ret;

	if (!v)
		return fail(fj, "null is not allowed; omit the field instead");
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		ret = read_signed(fj, v, INT32_MIN, INT32_MAX, &i);
		if (!ret)
			*(int32_t *)dst = (int32_t)i;
		return ret;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		ret = read_unsigned(fj, v, UINT32_MAX, &u);
		if (!ret)
			*(uint32_t *)dst = (uint32_t)u;
		return ret;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		ret = read_signed(fj, v, INT64_MIN, INT64_MAX, &i);
		if (!ret)
			*(int64_t *)dst = i;
		return ret;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		ret = read_unsigned(fj, v, UINT64_MAX, &u);
		if (!ret)
			*(uint64_t *)dst = u;
		return ret;
	case PROTOBUF_C_TYPE_BOOL:
		if (!json_object_is_type(v, json_type_boolean))
			return fail(fj, "expected true or false, got %s", jtype(v));
		*(protobuf_c_boolean *)dst = json_object_get_boolean(v);
		return 0;
	case PROTOBUF_C_TYPE_FLOAT:
		ret = read_double(fj, v, FLT_MAX, &d);
		if (!ret)
			*(float *)dst = (float)d;
		return ret;
	case PROTOBUF_C_TYPE_DOUBLE:
		ret = read_double(fj, v, DBL_MAX, &d);
		if (!ret)
			*(double *)dst = d;
		return ret;
	case PROTOBUF_C_TYPE_ENUM:
		return read_enum(fj, f, v, dst);
	case PROTOBUF_C_TYPE_STRING:
		return read_string(fj, v, dst);
	case PROTOBUF_C_TYPE_BYTES:
		return read_bytes(fj, v, dst);
	case PROTOBUF_C_TYPE_MESSAGE:
		return msg_from_json(fj, f->descriptor, v, dst);
	}
	return fail(fj, "unsupported field type %d", (int)f->type);
}

/* The array and its count are stored before the elements so that a
 * failure halfway leaves a message protobuf_c_message_free_unpacked()
 * can free: n counts only the elements already filled in. */
static int repeated_from_json(struct from_json *fj, ProtobufCMessage *m,
			      const ProtobufCFieldDescriptor *f, struct json_object *v)
{
	size_t *np = MEMBER(m, f->quantifier_offset);
	char **arrp = MEMBER(m, f->offset);
	size_t n, esz = elem_size(f->type), old;
	int ret;

	if (!v || !json_object_is_type(v, json_type_array))
		return fail(fj, "expected an array, got %s", v ? jtype(v) : "null");
	n = json_object_array_length(v);
	if (!n)
		return 0;
	*arrp = calloc(n, esz);
	if (!*arrp)
		return oom(fj);
	for (size_t i = 0; i < n; i++) {
		old = path_push(fj, "[%zu]", i);
		ret = value_from_json(fj, f, json_object_array_get_idx(v, i), *arrp + i * esz);
		if (ret)
			return ret;
		path_pop(fj, old);
		(*np)++;
	}
	return 0;
}

static int oneof_from_json(struct from_json *fj, ProtobufCMessage *m,
			   const ProtobufCFieldDescriptor *f, struct json_object *v)
{
	uint32_t *which = MEMBER(m, f->quantifier_offset);
	const ProtobufCFieldDescriptor *other;
	int ret;

	if (*which && *which != f->id) {
		other = protobuf_c_message_descriptor_get_field(m->descriptor, *which);
		return fail(fj, "is in the same oneof as \"%s\"; set only one",
			    other ? other->name : "?");
	}
	ret = value_from_json(fj, f, v, MEMBER(m, f->offset));
	if (!ret)
		*which = f->id;
	return ret;
}

static int field_from_json(struct from_json *fj, ProtobufCMessage *m,
			   const ProtobufCFieldDescriptor *f, struct json_object *v)
{
	int ret;

	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return repeated_from_json(fj, m, f, v);
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return oneof_from_json(fj, m, f, v);
	ret = value_from_json(fj, f, v, MEMBER(m, f->offset));
	if (!ret && f->label == PROTOBUF_C_LABEL_OPTIONAL && !is_pointer_type(f))
		*(protobuf_c_boolean *)MEMBER(m, f->quantifier_offset) = 1;
	return ret;
}

static int check_required(struct from_json *fj, const ProtobufCMessageDescriptor *d,
			  const bool *seen)
{
	for (unsigned i = 0; i < d->n_fields; i++) {
		if (d->fields[i].label != PROTOBUF_C_LABEL_REQUIRED || seen[i])
			continue;
		path_push(fj, "%s%s", fj->plen ? "." : "", d->fields[i].name);
		return fail(fj, "required field of %s is missing", d->name);
	}
	return 0;
}

static int msg_from_json(struct from_json *fj, const ProtobufCMessageDescriptor *d,
			 struct json_object *obj, ProtobufCMessage **out)
{
	ProtobufCMessage *m = NULL;
	bool *seen = NULL;
	size_t old;
	int ret;

	if (!obj || !json_object_is_type(obj, json_type_object))
		return fail(fj, "expected a %s object, got %s", d->name, obj ? jtype(obj) : "null");
	m = malloc(d->sizeof_message);
	seen = calloc(d->n_fields ? d->n_fields : 1, sizeof(*seen));
	if (!m || !seen) {
		free(m);
		m = NULL;
		ret = oom(fj);
		goto out;
	}
	protobuf_c_message_init(d, m);
	json_object_object_foreach(obj, key, val) {
		const ProtobufCFieldDescriptor *f =
			protobuf_c_message_descriptor_get_field_by_name(d, key);

		old = path_push(fj, "%s%s", fj->plen ? "." : "", key);
		if (!f)
			ret = fail(fj, "%s has no such field", d->name);
		else
			ret = field_from_json(fj, m, f, val);
		if (ret)
			goto out;
		path_pop(fj, old);
		seen[f - d->fields] = true;
	}
	ret = check_required(fj, d, seen);
out:
	free(seen);
	if (ret) {
		protobuf_c_message_free_unpacked(m, NULL);
		return ret;
	}
	*out = m;
	return 0;
}

int pbjson_to_msg(const ProtobufCMessageDescriptor *desc, struct json_object *obj,
		  const char *where, ProtobufCMessage **out, char *err, size_t errlen)
{
	struct from_json fj = { .err = err, .errlen = errlen };

	*out = NULL;
	if (errlen)
		err[0] = '\0';
	path_push(&fj, "%s", where ? where : "");
	return msg_from_json(&fj, desc, obj, out);
}

/* ---- strict parsing ---- */

static int perr(char *err, size_t errlen, size_t off, const char *what)
{
	if (errlen)
		snprintf(err, errlen, "offset %zu: %s", off, what);
	return -EINVAL;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* digits[0..n) as a magnitude, compared with the 64-bit limit. */
static bool over_64bit(const char *digits, size_t n, bool neg)
{
	const char *lim = neg ? "9223372036854775808" : "18446744073709551615";
	size_t ln = strlen(lim);

	while (n > 1 && *digits == '0') {
		digits++;
		n--;
	}
	if (n != ln)
		return n > ln;
	return memcmp(digits, lim, n) > 0;
}

/* json-c clamps integers beyond 64 bits without telling, so find them in
 * the text first. Only integer literals outside strings matter. */
static int check_int_literals(const char *s, size_t len, char *err, size_t errlen)
{
	bool in_str = false;

	for (size_t i = 0; i < len; i++) {
		size_t start = i, d0;
		bool neg;

		if (in_str) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_str = false;
			continue;
		}
		if (s[i] == '"') {
			in_str = true;
			continue;
		}
		if (s[i] != '-' && !is_digit(s[i]))
			continue;
		neg = s[i] == '-';
		i += neg;
		d0 = i;
		while (i < len && is_digit(s[i]))
			i++;
		if (i > d0 && !(i < len && (s[i] == '.' || s[i] == 'e' || s[i] == 'E')) &&
		    over_64bit(s + d0, i - d0, neg))
			return perr(err, errlen, start, "integer outside the 64-bit range");
		while (i < len && (is_digit(s[i]) || (s[i] && strchr(".eE+-", s[i]))))
			i++;
		i--;
	}
	return 0;
}

int pbjson_parse(const char *text, size_t len, struct json_object **out,
		 char *err, size_t errlen)
{
	const char *nul = memchr(text, '\0', len);
	enum json_tokener_error e;
	struct json_tokener *tok;
	struct json_object *obj;
	size_t end;
	int ret;

	*out = NULL;
	if (nul)
		return perr(err, errlen, nul - text, "NUL byte in JSON text");
	/* json-c takes an int length. */
	if (len > INT_MAX)
		return perr(err, errlen, 0, "JSON text over 2 GiB");
	ret = check_int_literals(text, len, err, errlen);
	if (ret)
		return ret;
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, text, len);
	e = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (e == json_tokener_continue)
		return perr(err, errlen, len, "unexpected end of JSON text");
	if (e != json_tokener_success)
		return perr(err, errlen, end ? end - 1 : 0, json_tokener_error_desc(e));
	while (end < len && text[end] && strchr(" \t\r\n", text[end]))
		end++;
	ret = 0;
	if (end < len)
		ret = perr(err, errlen, end, "trailing data after the JSON value");
	else if (!obj)
		ret = perr(err, errlen, 0, "document is null");
	if (ret) {
		json_object_put(obj);
		return ret;
	}
	*out = obj;
	return 0;
}
