/* Generic protobuf-c <-> json-c conversion, driven only by the message
 * descriptors, so a new image schema needs no code here.
 *
 * Mapping: field names are keys; 32-bit and 64-bit integers are JSON
 * integers; bool is true/false; an enum is its value name (a number is
 * accepted on input, and is also what is printed for a value the schema
 * does not name); bytes are a lowercase hex string; a nested message is an
 * object; a repeated field is an array. Absent optional fields, unset
 * oneof members and empty repeated fields are omitted.
 *
 * The guarantee: pbjson_to_msg(pbjson_from_msg(m)) packs to the same bytes
 * as m. Unknown fields of m cannot be carried and are reported instead. */
#ifndef MINICR_PBJSON_H
#define MINICR_PBJSON_H

#include <stddef.h>
#include <json-c/json.h>
#include <protobuf-c/protobuf-c.h>

/* msg -> new JSON object (release with json_object_put). 0, -ENOMEM, or
 * -EPROTO when msg holds unknown fields (*out is still set). */
int pbjson_from_msg(const ProtobufCMessage *msg, struct json_object **out);

/* JSON object -> new message of type desc, allocated the way
 * protobuf_c_message_unpack() allocates: free it with
 * protobuf_c_message_free_unpacked(msg, NULL). Unknown keys, null, wrong
 * JSON types, out-of-range numbers, unknown enum names, bad hex and missing
 * required fields give -EINVAL with "where.field.path[i]: reason" in err
 * (where names obj for the reader, e.g. "entries[3]"; may be NULL). */
int pbjson_to_msg(const ProtobufCMessageDescriptor *desc, struct json_object *obj,
		  const char *where, ProtobufCMessage **out, char *err, size_t errlen);

/* Parse a whole JSON document strictly: one value, nothing but white space
 * after it, and no integer literal outside the 64-bit range (json-c would
 * silently clamp it). -EINVAL with "offset N: reason" in err. */
int pbjson_parse(const char *text, size_t len, struct json_object **out,
		 char *err, size_t errlen);

#endif
