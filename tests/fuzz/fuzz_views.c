/* libFuzzer target: minicr-decode's views (fds, mems, show --json, in
 * tools/views.c) on a copy of the reference image set (images/ref) in
 * which one image is replaced by the input: the image of its type for
 * task 2 (or the set's files.img / pstree.img), chosen by the input's
 * magic, so the seeds are the reference images themselves. Inputs of
 * other types are ignored.
 *
 * Besides no crash, leak or undefined behaviour: a view exits 0 or 1
 * (never usage), and 0 for the unchanged set. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_access.h"
#include "image.h"
#include "imgtypes.h"
#include "util.h"
#include "views.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char set_dir[64];

static void copy_file(const char *from, const char *to)
{
	char *buf = NULL;
	size_t len;
	int fd;

	FUZZ_CHECK(read_file(from, IMG_MAX_FILE, &buf, &len) == 0);
	fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FUZZ_CHECK(fd >= 0 && write_all(fd, buf, len) == 0 && close(fd) == 0);
	free(buf);
}

static void put_file(const char *name, const uint8_t *data, size_t size)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", set_dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FUZZ_CHECK(fd >= 0 && write_all(fd, data, size) == 0 && close(fd) == 0);
}

/* libFuzzer ends with exit(), also after a failed check: no directory
 * left behind in /tmp. */
static void remove_set(void)
{
	char path[128];
	struct dirent *de;
	DIR *d = opendir(set_dir);

	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", set_dir, de->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(set_dir);
}

static int run_views(void)
{
	static char json[] = "--json";
	char *args[] = { set_dir, json };
	int ret = 0, r;

	r = views_fds(1, args);
	ret |= r;
	FUZZ_CHECK(r == 0 || r == 1);
	r = views_mems(1, args);
	ret |= r;
	FUZZ_CHECK(r == 0 || r == 1);
	r = views_show(2, args);
	ret |= r;
	FUZZ_CHECK(r == 0 || r == 1);
	return ret;
}

/* The set (the images of task 2 and the shared ones) in a temporary
 * directory; the views' output goes nowhere. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const names[] = {
		"inventory.img", "pstree.img", "files.img", "core-2.img", "core-3.img",
		"core-4.img", "core-5.img", "core-6.img", "fds-2.img", "fds-3.img",
		"fds-5.img", "fds-6.img", "mm-2.img", "mm-3.img", "mm-5.img", "mm-6.img",
		"pagemap-2.img", "pagemap-3.img", "pagemap-5.img", "pagemap-6.img",
		"pages-2.img", "pages-3.img", "pages-5.img", "pages-6.img",
	};
	char from[4096], to[128];

	(void)argc;
	(void)argv;
	snprintf(set_dir, sizeof(set_dir), "/tmp/minicr-fuzz-views.XXXXXX");
	FUZZ_CHECK(mkdtemp(set_dir));
	FUZZ_CHECK(atexit(remove_set) == 0);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(from, sizeof(from), "%s/%s", MINICR_REF_DIR, names[i]);
		snprintf(to, sizeof(to), "%s/%s", set_dir, names[i]);
		copy_file(from, to);
	}
	FUZZ_CHECK(freopen("/dev/null", "w", stdout));
	FUZZ_CHECK(run_views() == 0);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct img_type *t;
	char name[64], orig_path[4096];
	char *orig = NULL;
	size_t orig_len;

	if (size < IMG_HDR_SIZE)
		return 0;
	t = img_type_by_magic(img_get_u32(data));
	if (!t || (t != &img_types[IMG_PSTREE] && t != &img_types[IMG_FILE_DESCS] &&
		   t != &img_types[IMG_FDS] && t != &img_types[IMG_CORE] &&
		   t != &img_types[IMG_MM] && t != &img_types[IMG_PAGEMAP]))
		return 0;
	FUZZ_CHECK(img_file_name(t - img_types, 2, name, sizeof(name)) == 0);
	snprintf(orig_path, sizeof(orig_path), "%s/%s", MINICR_REF_DIR, name);
	FUZZ_CHECK(read_file(orig_path, IMG_MAX_FILE, &orig, &orig_len) == 0);
	put_file(name, data, size);
	run_views();
	put_file(name, (const uint8_t *)orig, orig_len);
	free(orig);
	return 0;
}
