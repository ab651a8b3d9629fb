/* libFuzzer target: `minicr-decode encode` on arbitrary JSON text: the
 * strict parser (pbjson_parse()), the image envelope (type, magic,
 * entries) and pbjson_to_msg() for every schema (tests/fuzz/fuzz_access.h).
 *
 * Besides no crash, leak or undefined behaviour: an image encode writes is
 * canonical, decode accepts it, and encoding that JSON again gives the
 * same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_access.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool pretty = size & 1, raw;
	uint8_t *img = NULL, *img2 = NULL;
	size_t img_len, img2_len;
	char *json = NULL;
	int ret;

	ret = fuzz_encode((const char *)data, size, &img, &img_len);
	if (ret)
		goto out;
	FUZZ_CHECK(fuzz_image_canonical(img, img_len));
	ret = fuzz_decode(img, img_len, pretty, &json, &raw);
	FUZZ_CHECK(ret == 0 && !raw);
	ret = fuzz_encode(json, strlen(json), &img2, &img2_len);
	FUZZ_CHECK(ret == 0);
	FUZZ_CHECK(img2_len == img_len && !memcmp(img, img2, img_len));
out:
	free(json);
	free(img);
	free(img2);
	return 0;
}
