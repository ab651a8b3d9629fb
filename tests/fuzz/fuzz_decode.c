/* libFuzzer target: the decoder, `minicr-decode decode` then `encode`, on
 * arbitrary image bytes (tests/fuzz/fuzz_access.h runs tools/decode.c's own
 * code on memory).
 *
 * Besides no crash, leak or undefined behaviour: whatever decode accepts,
 * encode must accept back; when every entry was canonical (see
 * fuzz_image_canonical()) encode must give the input byte for byte, and in
 * any case decoding the re-encoded image must give the same JSON. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_access.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Both printers: pretty for odd sizes. */
	bool pretty = size & 1, raw;
	char *json = NULL, *json2 = NULL;
	uint8_t *img = NULL;
	size_t img_len;
	int ret;

	ret = fuzz_decode(data, size, pretty, &json, &raw);
	if (ret || raw)
		goto out;
	ret = fuzz_encode(json, strlen(json), &img, &img_len);
	FUZZ_CHECK(ret == 0);
	if (fuzz_image_canonical(data, size))
		FUZZ_CHECK(img_len == size && !memcmp(img, data, size));
	ret = fuzz_decode(img, img_len, pretty, &json2, &raw);
	FUZZ_CHECK(ret == 0 && !raw);
	FUZZ_CHECK(!strcmp(json, json2));
out:
	free(json);
	free(json2);
	free(img);
	return 0;
}
