/* libFuzzer target: `minicr-decode show` on an arbitrary pstree.img:
 * loading it through the file reader, linking tasks by ppid (duplicates,
 * missing parents, self-parents) and ordering the tree depth first
 * (parent cycles), with tools/decode.c's own code (fuzz_access.h).
 *
 * Besides no crash, leak or undefined behaviour: when show accepts the
 * tree, every task is printed once, below its parent, one level deeper. */
#include <stdint.h>

#include "fuzz_access.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_show_tree(data, size);
	return 0;
}
