#include "imgtypes.h"

#include <string.h>

#include "core.pb-c.h"
#include "inventory.pb-c.h"
#include "pstree.pb-c.h"

const struct img_type img_types[IMG_NR_KINDS] = {
	[IMG_INVENTORY] = { IMG_INVENTORY, "inventory", false,
			    IMG_MAGIC('M', 'C', 'I', 'N'), &inventory_entry__descriptor },
	[IMG_PSTREE]    = { IMG_PSTREE, "pstree", false,
			    IMG_MAGIC('M', 'C', 'P', 'S'), &pstree_entry__descriptor },
	[IMG_CORE]      = { IMG_CORE, "core", true,
			    IMG_MAGIC('M', 'C', 'C', 'O'), &core_entry__descriptor },
};

const struct img_type *img_type_by_magic(uint32_t magic)
{
	for (unsigned i = 0; i < IMG_NR_KINDS; i++)
		if (img_types[i].magic == magic)
			return &img_types[i];
	return NULL;
}

const struct img_type *img_type_by_name(const char *name)
{
	for (unsigned i = 0; i < IMG_NR_KINDS; i++)
		if (!strcmp(img_types[i].name, name))
			return &img_types[i];
	return NULL;
}
