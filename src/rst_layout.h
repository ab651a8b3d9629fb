/* Address-space layout decisions of memory restore (rst_mem.c), pure: lists
 * of ranges in, decisions out, so that every rule is unit-tested
 * (tests/unit/test_layout.c) without a live process.
 *
 *  - lay_maps_parse(): /proc/PID/maps text into struct lay_map entries;
 *  - lay_vmas_check(): the recorded VMAs are sane (aligned, ascending, inside
 *    the user address space);
 *  - lay_pick_tramp(): where the trampoline goes, free in both the recorded
 *    and the current layout;
 *  - lay_vdso_check(): the recorded [vvar]/[vvar_vclock]/[vdso] can be
 *    recreated by this kernel's map_vdso(), and at which address;
 *  - lay_runs_assign(): every recorded page run lies in private memory, and
 *    which VMAs need PROT_WRITE while their contents are written;
 *  - lay_mmap_args(): prot and MAP_* flags to recreate one VMA;
 *  - lay_guards_check(): recorded guard ranges fit their VMA;
 *  - lay_maps_compare(): does a restored /proc/PID/maps show the recorded
 *    layout (the kernel may merge adjacent VMAs the dump saw apart). */
#ifndef MINICR_RST_LAYOUT_H
#define MINICR_RST_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LAY_PAGE_SIZE  4096ULL
/* x86_64 with 4-level paging; mappings above need an explicit hint and
 * minicr refuses to dump them (lay_vmas_check). */
#define LAY_TASK_SIZE  0x7ffffffff000ULL
/* Keep the trampoline this far from any recorded or current mapping: the
 * kernel's stack_guard_gap (256 pages) below a MAP_GROWSDOWN stack. */
#define LAY_TRAMP_GUARD (1ULL << 20)

struct lay_range {
	uint64_t start, end;
};

/* One mapping as /proc/PID/maps shows it (or as restore expects to see it). */
struct lay_map {
	uint64_t start, end;
	uint32_t prot;              /* PROT_* */
	bool shared;                /* 's' rather than 'p' */
	uint64_t pgoff;             /* bytes */
	unsigned int dev_major, dev_minor;
	uint64_t ino;
	char *name;                 /* malloc'd, "" for none */
	/* Expected entries only: the object is recreated under another
	 * identity (shared anonymous memory becomes a memfd), so name, device
	 * and inode are not compared. */
	bool any_ident;
};

/* Parse a whole /proc/PID/maps text. On failure *err_line is the 1-based
 * line at fault and the return value -EINVAL (or -ENOMEM). */
int lay_maps_parse(const char *buf, struct lay_map **out, size_t *nr, size_t *err_line);
void lay_maps_free(struct lay_map *m, size_t nr);

/* The recorded VMA as restore sees it. kind is a VmaKind of mm.proto. */
struct lay_vma {
	uint64_t start, end;
	int kind;
	uint32_t prot;              /* recorded PROT_* */
	uint32_t flags;             /* recorded MAP_* */
	bool has_pages;             /* set by lay_runs_assign() */
};

/* 0, or -EINVAL with *bad the index of the offending VMA and *why a static
 * reason: each VMA page aligned, non-empty, after the previous one and (but
 * for [vsyscall]) below LAY_TASK_SIZE. */
int lay_vmas_check(const struct lay_vma *v, size_t nr, size_t *bad, const char **why);

/* Lowest page-aligned address >= lo with [addr, addr + len) and a guard of
 * LAY_TRAMP_GUARD on both sides free of every busy range (any order, may
 * overlap) and below hi. -ENOSPC if there is none. */
int lay_pick_tramp(const struct lay_range *busy, size_t nr, uint64_t lo, uint64_t hi,
		   uint64_t len, uint64_t *addr);

enum { LAY_VVAR, LAY_VVAR_VCLOCK, LAY_VDSO, LAY_NR_VDSO };

struct lay_vdso {
	struct lay_range r[LAY_NR_VDSO];
	bool present[LAY_NR_VDSO];
};

/* Fill a lay_vdso from maps entries by name ([vvar], [vvar_vclock],
 * [vdso]). -EINVAL if a name appears twice. */
int lay_vdso_from_maps(const struct lay_map *m, size_t nr, struct lay_vdso *out);

/* The kernel's map_vdso(addr) (arch_prctl ARCH_MAP_VDSO_64) lays the three
 * mappings out exactly as they are in minicr's own address space, starting
 * at addr. So the recorded ones can be recreated only if they have the same
 * sizes and the same offsets from their lowest start as `self`. On success
 * *base is that lowest recorded start, or 0 if nothing was recorded (the
 * task had unmapped its vDSO). -EINVAL with *why otherwise. */
int lay_vdso_check(const struct lay_vdso *rec, const struct lay_vdso *self, uint64_t *base,
		   const char **why);

/* A run of recorded pages (PagemapEntry). */
struct lay_run {
	uint64_t vaddr;
	uint64_t nr_pages;
};

/* Check that every run is page aligned, non-empty, ascending without
 * overlap, and lies wholly in private VMAs (anonymous or file; a run may
 * span adjacent VMAs), and set has_pages on each VMA a run touches.
 * -EINVAL with *bad the index of the offending run and *why otherwise.
 * *total is the number of pages. */
int lay_runs_assign(struct lay_vma *v, size_t nr, const struct lay_run *runs, size_t nr_runs,
		    uint64_t *total, size_t *bad, const char **why);

/* prot and flags for the mmap() that recreates v (MAP_FIXED_NOREPLACE
 * included; PROT_WRITE added when its contents are written afterwards).
 * -ENOTSUP with *why for a kind that is not mapped this way (vDSO,
 * vsyscall) or recorded flags minicr cannot reproduce. */
int lay_mmap_args(const struct lay_vma *v, uint32_t *prot, uint32_t *flags, const char **why);

/* MADV_GUARD_INSTALL ranges recorded for v, as start, end pairs: an even
 * count, each page aligned, non-empty, inside v, ascending without overlap,
 * and v private memory (the only kind guards are installed in). 0, or
 * -EINVAL with *why. */
int lay_guards_check(const struct lay_vma *v, const uint64_t *g, size_t n, const char **why);

/* Compare the expected layout with the one read back. Both lists ascending.
 * Address by address, both must be mapped or both not, with the same prot,
 * sharing, device, inode, name and file offset; the name of an anonymous
 * mapping ([heap], [stack], [anon:x]) only counts where both entries have
 * the same bounds, since the kernel merges adjacent anonymous VMAs that the
 * dump saw apart. Got entries at or above LAY_TASK_SIZE ([vsyscall]) and
 * inside `skip` (the trampoline, may be empty) are ignored. 0, or -EINVAL with
 * *addr the first differing address and *ie / *ig the entries there
 * (SIZE_MAX if none) and *why a static reason. */
int lay_maps_compare(const struct lay_map *exp, size_t ne, const struct lay_map *got, size_t ng,
		     struct lay_range skip, uint64_t *addr, size_t *ie, size_t *ig,
		     const char **why);

#endif
