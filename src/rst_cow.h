/* Copy-on-write sharing between a restored parent and its children.
 *
 * Memory is otherwise restored task by task, remotely, after the whole tree
 * is built (src/rst_mem.c), so each task would get its own copy of what it
 * shared with its parent at dump (VmaEntry.cow_parent). Instead, while the
 * tree is built, each new task, still running minicr's code and before it
 * forks any child, fills some of its private anonymous VMAs itself at their
 * recorded addresses: those its children recorded as still shared with it
 * (a fresh mapping, filled with all its pages), and those it inherited so
 * from its own forker (only its pages that differ from the forker's are
 * written, the others are left shared, and what it did not have is
 * dropped). The children then inherit them by fork, shared copy-on-write
 * as at dump. Each task lists what it so kept in its slot, in memory shared
 * with minicr; rst_mem_restore() keeps those VMAs as they are (no unmap, no
 * mmap, no page writes) and gives them the rest of their recorded state.
 *
 * Only plain VMAs take part (MAP_PRIVATE|MAP_ANONYMOUS, maybe
 * MAP_NORESERVE, no guard ranges); a VMA that cannot be mapped at its
 * address in the new task (minicr's own memory is there) or filled is
 * left out and restored the usual way: sharing is lost, nothing else. */
#ifndef MINICR_RST_COW_H
#define MINICR_RST_COW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm.pb-c.h"

#define RST_COW_MAX 64          /* VMAs kept per task */

/* One task's kept VMAs, exact bounds, in MAP_SHARED memory. */
struct rst_cow_slot {
	uint32_t nr;
	struct {
		uint64_t start, end;
	} r[RST_COW_MAX];
};

enum { RST_COW_NONE, RST_COW_FRESH, RST_COW_INHERITED };

/* Whether e can take part at all. */
bool rst_cow_eligible(const VmaEntry *e);
/* Whether the slot lists exactly [start, end). */
bool rst_cow_slot_has(const struct rst_cow_slot *s, uint64_t start, uint64_t end);

/* Pure: per VMA of mm, how it is filled before the task forks: INHERITED
 * if the forker kept a VMA with the same bounds and this one recorded
 * pages shared with it, FRESH if one of the children recorded pages
 * shared with this VMA, NONE otherwise. forker may be NULL (none, or not
 * the recorded parent); kids[i] may be NULL (no image). */
void rst_cow_decide(const MmEntry *mm, const struct rst_cow_slot *forker,
		    const MmEntry *const *kids, size_t nr_kids, uint8_t *how);

/* In a new task (minicr's code), before it forks: fill what
 * rst_cow_decide() chose, list it in out, unmap what it inherited and does
 * not keep. Never fails: what cannot be done is left to rst_mem. */
void rst_cow_prepare(int dirfd, int img_pid, const struct rst_cow_slot *forker,
		     const int *kid_pids, size_t nr_kids, struct rst_cow_slot *out);

#endif
