#include "imgtypes.h"

#include <string.h>

#include "cgroup.pb-c.h"
#include "core.pb-c.h"
#include "inventory.pb-c.h"
#include "files.pb-c.h"
#include "mm.pb-c.h"
#include "pstree.pb-c.h"
#include "stats.pb-c.h"

const struct img_type img_types[IMG_NR_KINDS] = {
	[IMG_INVENTORY] = { IMG_INVENTORY, "inventory", false,
			    IMG_MAGIC('M', 'C', 'I', 'N'), &inventory_entry__descriptor },
	[IMG_PSTREE]    = { IMG_PSTREE, "pstree", false,
			    IMG_MAGIC('M', 'C', 'P', 'S'), &pstree_entry__descriptor },
	[IMG_CORE]      = { IMG_CORE, "core", true,
			    IMG_MAGIC('M', 'C', 'C', 'O'), &core_entry__descriptor },
	[IMG_MM]        = { IMG_MM, "mm", true,
			    IMG_MAGIC('M', 'C', 'M', 'M'), &mm_entry__descriptor },
	[IMG_PAGEMAP]   = { IMG_PAGEMAP, "pagemap", true,
			    IMG_MAGIC('M', 'C', 'P', 'M'), &pagemap_entry__descriptor },
	[IMG_PAGES]     = { IMG_PAGES, "pages", true,
			    IMG_MAGIC('M', 'C', 'P', 'G'), NULL },
	[IMG_SHMEM]     = { IMG_SHMEM, "shmem", true,
			    IMG_MAGIC('M', 'C', 'S', 'M'), &pagemap_entry__descriptor },
	[IMG_SHMEM_PAGES] = { IMG_SHMEM_PAGES, "shmem-pages", true,
			    IMG_MAGIC('M', 'C', 'S', 'P'), NULL },
	[IMG_FILE_DESCS] = { IMG_FILE_DESCS, "files", false,
			    IMG_MAGIC('M', 'C', 'F', 'L'), &file_entry__descriptor },
	[IMG_FDS]       = { IMG_FDS, "fds", true,
			    IMG_MAGIC('M', 'C', 'F', 'D'), &fd_entry__descriptor },
	[IMG_GHOST]     = { IMG_GHOST, "ghost", true,
			    IMG_MAGIC('M', 'C', 'G', 'H'), NULL },
	[IMG_PIPE_DATA] = { IMG_PIPE_DATA, "pipe-data", true,
			    IMG_MAGIC('M', 'C', 'P', 'D'), NULL },
	[IMG_STATS_DUMP] = { IMG_STATS_DUMP, "stats-dump", false,
			    IMG_MAGIC('M', 'C', 'S', 'D'), &dump_stats_entry__descriptor },
	[IMG_STATS_RESTORE] = { IMG_STATS_RESTORE, "stats-restore", false,
			    IMG_MAGIC('M', 'C', 'S', 'R'), &restore_stats_entry__descriptor },
	[IMG_CGROUP]    = { IMG_CGROUP, "cgroup", false,
			    IMG_MAGIC('M', 'C', 'C', 'G'), &cgroup_entry__descriptor },
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
