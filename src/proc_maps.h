/* /proc/PID/smaps and /proc/PID/pagemap, pure: text and numbers in, structs
 * out, so every rule here is unit-tested without a live process.
 *
 * smaps_parse() turns smaps text into one struct vma per mapping (header
 * line fields, the VmFlags mnemonics, and the Anonymous/Swap sizes that
 * tell whether a VMA can hold pages worth dumping at all).
 * vma_classify() derives what restore needs: the VmaKind of mm.proto, PROT_*
 * bits, the MAP_* flags to recreate it and the madvise bits (as 1 << MADV_x)
 * to re-apply. It refuses (-ENOTSUP) mappings minicr cannot recreate
 * (device memory, shadow stacks, hugetlb, protection keys, unknown special
 * mappings).
 * pme_wanted() decides from one pagemap entry whether a page is dumped. */
#ifndef MINICR_PROC_MAPS_H
#define MINICR_PROC_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* VmFlags mnemonics minicr looks at (fs/proc/task_mmu.c show_smap_vma_flags). */
enum {
	VMF_RD = 1u << 0,   /* rd: readable */
	VMF_WR = 1u << 1,   /* wr */
	VMF_EX = 1u << 2,   /* ex */
	VMF_SH = 1u << 3,   /* sh: VM_SHARED */
	VMF_MW = 1u << 4,   /* mw: VM_MAYWRITE (a shared mapping of a writable fd) */
	VMF_GD = 1u << 5,   /* gd: grows down */
	VMF_PF = 1u << 6,   /* pf: pure PFN range */
	VMF_IO = 1u << 7,   /* io: memory-mapped I/O */
	VMF_SR = 1u << 8,   /* sr: MADV_SEQUENTIAL */
	VMF_RR = 1u << 9,   /* rr: MADV_RANDOM */
	VMF_DC = 1u << 10,  /* dc: MADV_DONTFORK */
	VMF_DE = 1u << 11,  /* de: VM_DONTEXPAND, kernel-set on special mappings */
	VMF_LO = 1u << 12,  /* lo: mlocked */
	VMF_NR = 1u << 13,  /* nr: MAP_NORESERVE */
	VMF_HG = 1u << 14,  /* hg: MADV_HUGEPAGE */
	VMF_NH = 1u << 15,  /* nh: MADV_NOHUGEPAGE */
	VMF_MG = 1u << 16,  /* mg: MADV_MERGEABLE */
	VMF_DD = 1u << 17,  /* dd: MADV_DONTDUMP */
	VMF_WF = 1u << 18,  /* wf: MADV_WIPEONFORK */
	VMF_SS = 1u << 19,  /* ss: shadow stack */
	VMF_LF = 1u << 20,  /* lf: mlock(MLOCK_ONFAULT) */
	VMF_GU = 1u << 21,  /* gu: may hold MADV_GUARD_INSTALL markers */
	VMF_SL = 1u << 22,  /* sl: mseal()ed */
	VMF_UF = 1u << 23,  /* um, uw, ui: registered with a userfaultfd */
	VMF_HT = 1u << 24,  /* ht: hugetlb */
	VMF_SF = 1u << 25,  /* sf: MAP_SYNC (DAX) */
	VMF_MM = 1u << 26,  /* mm: mixed PFN / page mapping of a driver */
	VMF_AR = 1u << 27,  /* ar: VM_ARCH_1 (x86 PAT of a PFN mapping) */
	VMF_DP = 1u << 28,  /* dp: MAP_DROPPABLE */
	VMF_UNKNOWN = 1u << 31,  /* a mnemonic this table does not know */
};

struct vma {
	/* From the header line. */
	uint64_t start, end;
	char perms[5];          /* "rw-p" */
	uint64_t pgoff;         /* bytes */
	unsigned int dev_major, dev_minor;
	uint64_t ino;
	char *path;             /* malloc'd; NULL for plain anonymous memory */
	/* From the body. */
	uint32_t vmflags;       /* VMF_* */
	bool has_vmflags;
	uint64_t anon_kb, swap_kb;   /* Anonymous:, Swap: */
	uint64_t kernel_page_kb;     /* KernelPageSize: (4 unless hugetlb) */
	uint64_t pkey;               /* ProtectionKey: (x86 PKU) */
	/* Set by vma_classify(). */
	int kind;               /* VmaKind of mm.proto */
	uint32_t prot, flags, madv;
	uint32_t mlock;         /* VMA_MLOCK_* */
	bool sealed;            /* re-sealed with mseal() last */
	bool maywrite;          /* a shared file mapping opened writable */
};

/* How a VMA is locked (VmaEntry.mlock): mlock(), or mlock2(MLOCK_ONFAULT),
 * which locks only the pages already faulted in. */
enum { VMA_MLOCK_NONE = 0, VMA_MLOCK_ALL = 1, VMA_MLOCK_ONFAULT = 2 };

struct vma_list {
	struct vma *v;
	size_t nr, cap;
};

/* Parse a whole smaps (or maps) text. On failure *err_line is the 1-based
 * line number at fault. */
int smaps_parse(const char *buf, struct vma_list *out, size_t *err_line);
void vma_list_free(struct vma_list *l);

/* One VMA's header line, e.g. "7f00-7f01 rw-p 00000000 00:00 0   [heap]". */
int smaps_parse_header(const char *line, size_t len, struct vma *v);
/* "rd wr mr ..." into VMF_*. Mnemonics that only mirror what is restored
 * anyway (mr me ms: the VM_MAY* bits the kernel derives from the file and
 * the sharing; ac: commit accounting; sd: soft-dirty, set on every new VMA)
 * give no bit; any mnemonic the table does not know gives VMF_UNKNOWN. */
uint32_t smaps_parse_vmflags(const char *s);

/* The fidelity audit of one VMA's VmFlags (v->vmflags, v->path and
 * v->perms set): every flag shown must be either re-created by restore
 * (prot, MAP_* flags, madvise state, mlock, mseal, the writable file of a
 * shared mapping) or derived by the kernel from those. 0, or -ENOTSUP with
 * *why a static reason naming the state (userfaultfd, hugetlb, device
 * memory, shadow stack, MAP_DROPPABLE, MAP_SYNC, a driver's VM_DONTEXPAND,
 * a sealed vDSO, a read-only shared memory object, unknown flags). Called
 * by vma_classify(). */
int vmflags_audit(const struct vma *v, const char **why);

/* 0, or -ENOTSUP with *why set to a static reason. */
int vma_classify(struct vma *v, const char **why);

/* Kinds whose pages are the task's own (read from pagemap), as opposed to
 * shared objects dumped once (VMA_ANON_SHARED), files, and kernel-provided
 * mappings. */
bool vma_is_private(const struct vma *v);
/* Whether pagemap needs to be read at all: only a private VMA with
 * anonymous or swapped pages (smaps Anonymous:/Swap:) can hold a page minicr
 * dumps, or guard markers (VmFlags gu) it records. Needs smaps text. */
bool vma_may_have_pages(const struct vma *v);

/* /proc/PID/pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst). */
#define PME_PRESENT      (1ULL << 63)
#define PME_SWAP         (1ULL << 62)
#define PME_FILE         (1ULL << 61)   /* file page or shared anonymous */
#define PME_GUARD        (1ULL << 58)   /* MADV_GUARD_INSTALL marker, no page */
#define PME_PFN_MASK     ((1ULL << 55) - 1)

/* Whether a page of a private VMA is dumped: present or swapped, and the
 * task's own. A present page flagged FILE is not: it is the page cache of
 * a private file mapping not yet written to, or the huge zero page; a
 * swap entry flagged FILE is a file page under migration. Guard markers
 * hold no page, and the shared zero page (zero_pfn, 0 if unknown: PFNs
 * are shown to CAP_SYS_ADMIN only) is memory only ever read. */
bool pme_wanted(uint64_t pme, uint64_t zero_pfn);

/* Whether a page of a child's private VMA is still its parent's page at
 * the same address (copy-on-write not broken yet): both present, the same
 * page frame, known (PFNs read as 0 without CAP_SYS_ADMIN), not the zero
 * page, and a page the child's dump keeps (pme_wanted). */
bool pme_cow_shared(uint64_t child, uint64_t parent, uint64_t zero_pfn);

#endif
