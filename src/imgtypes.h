/* The table of image types: file name, magic and protobuf-c descriptor.
 * It is the one place that ties a magic to a schema; minicr and
 * minicr-decode both use it, so a new image type is one line here plus its
 * .proto file. */
#ifndef MINICR_IMGTYPES_H
#define MINICR_IMGTYPES_H

#include <stdbool.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

/* Image format version recorded in inventory.img; restore refuses newer. */
#define MINICR_IMG_VERSION 2

enum img_kind {
	IMG_INVENTORY,
	IMG_PSTREE,
	IMG_CORE,
	IMG_MM,
	IMG_PAGEMAP,        /* which pages of a task follow in IMG_PAGES */
	IMG_PAGES,          /* raw page contents */
	IMG_SHMEM,          /* which pages of a shared anonymous object */
	IMG_SHMEM_PAGES,    /* raw */
	IMG_FILE_DESCS,     /* files.img: every open file description, once */
	IMG_FDS,            /* fds-<pid>.img: a task's fds, naming those */
	IMG_GHOST,          /* ghost-<file id>.img: raw content of a deleted file/memfd */
	IMG_PIPE_DATA,      /* pipe-data-<file id>.img: raw bytes buffered in a pipe/FIFO */
	IMG_STATS_DUMP,
	IMG_STATS_RESTORE,
	IMG_CGROUP,         /* cgroup.img: the tree's cgroups and their settings */
	IMG_NR_KINDS
};

struct img_type {
	enum img_kind kind;
	const char *name;       /* "core": file core-<pid>.img, or core.img if !per_task */
	bool per_task;
	uint32_t magic;         /* first 4 bytes of the file, little-endian */
	const ProtobufCMessageDescriptor *desc;  /* NULL: raw bytes follow the magic */
};

/* Four ASCII characters read as a little-endian u32: "MCIN" -> 0x4e49434d. */
#define IMG_MAGIC(a, b, c, d) \
	((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

extern const struct img_type img_types[IMG_NR_KINDS];

const struct img_type *img_type_by_magic(uint32_t magic);
const struct img_type *img_type_by_name(const char *name);

#endif
