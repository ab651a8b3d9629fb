#include "proc_maps.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "mm.pb-c.h"

static bool is_hex(char c)
{
	return isxdigit((unsigned char)c);
}

/* Parse digits of base at *p (no sign, no leading space), advancing *p. */
static int parse_num(const char **p, const char *end, int base, uint64_t *out)
{
	uint64_t v = 0;
	const char *s = *p;

	if (s >= end)
		return -EINVAL;
	for (; s < end; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			break;
		if (v > (UINT64_MAX - d) / base)
			return -ERANGE;
		v = v * base + d;
	}
	if (s == *p)
		return -EINVAL;
	*p = s;
	*out = v;
	return 0;
}

static int expect_char(const char **p, const char *end, char c)
{
	if (*p >= end || **p != c)
		return -EINVAL;
	(*p)++;
	return 0;
}

/* The kernel prints a mapped file's path with '\n' escaped as "\012"
 * (seq_file_path(m, file, "\n")); nothing else is escaped. */
static char *unescape_path(const char *s, size_t len)
{
	char *out = malloc(len + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (len - i >= 4 && !memcmp(s + i, "\\012", 4)) {
			*o++ = '\n';
			i += 3;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

int smaps_parse_header(const char *line, size_t len, struct vma *v)
{
	const char *p = line, *end = line + len;
	uint64_t maj, min;
	int ret;

	memset(v, 0, sizeof(*v));
	v->kernel_page_kb = 4;
	if ((ret = parse_num(&p, end, 16, &v->start)) ||
	    (ret = expect_char(&p, end, '-')) ||
	    (ret = parse_num(&p, end, 16, &v->end)) ||
	    (ret = expect_char(&p, end, ' ')))
		return ret;
	if (end - p < 5 || p[4] != ' ')
		return -EINVAL;
	if (!strchr("r-", p[0]) || !strchr("w-", p[1]) || !strchr("x-", p[2]) ||
	    !strchr("sp", p[3]) || !p[0] || !p[1] || !p[2] || !p[3])
		return -EINVAL;
	memcpy(v->perms, p, 4);
	v->perms[4] = '\0';
	p += 5;
	if ((ret = parse_num(&p, end, 16, &v->pgoff)) ||
	    (ret = expect_char(&p, end, ' ')) ||
	    (ret = parse_num(&p, end, 16, &maj)) ||
	    (ret = expect_char(&p, end, ':')) ||
	    (ret = parse_num(&p, end, 16, &min)) ||
	    (ret = expect_char(&p, end, ' ')) ||
	    (ret = parse_num(&p, end, 10, &v->ino)))
		return ret;
	if (v->start >= v->end || maj > 0xfff || min > 0xfffff)
		return -EINVAL;
	v->dev_major = maj;
	v->dev_minor = min;
	if (p < end && *p != ' ')
		return -EINVAL;
	/* The path is padded to a column with spaces; it never starts with
	 * one, but may end with spaces that belong to it. */
	while (p < end && *p == ' ')
		p++;
	if (p < end) {
		v->path = unescape_path(p, end - p);
		if (!v->path)
			return -ENOMEM;
	}
	return 0;
}

/* Every mnemonic of show_smap_vma_flags() (fs/proc/task_mmu.c, Linux
 * 6.18); bit 0 for those that only mirror restored state (see
 * smaps_parse_vmflags()). */
static const struct {
	char name[3];
	uint32_t bit;
} vmflag_names[] = {
	{ "rd", VMF_RD }, { "wr", VMF_WR }, { "ex", VMF_EX }, { "sh", VMF_SH },
	{ "mw", VMF_MW }, { "gd", VMF_GD }, { "pf", VMF_PF }, { "io", VMF_IO },
	{ "sr", VMF_SR }, { "rr", VMF_RR }, { "dc", VMF_DC }, { "de", VMF_DE },
	{ "lo", VMF_LO }, { "nr", VMF_NR }, { "hg", VMF_HG }, { "nh", VMF_NH },
	{ "mg", VMF_MG }, { "dd", VMF_DD }, { "wf", VMF_WF }, { "ss", VMF_SS },
	{ "lf", VMF_LF }, { "gu", VMF_GU }, { "sl", VMF_SL }, { "um", VMF_UF },
	{ "uw", VMF_UF }, { "ui", VMF_UF }, { "ht", VMF_HT }, { "sf", VMF_SF },
	{ "mm", VMF_MM }, { "ar", VMF_AR }, { "dp", VMF_DP },
	{ "mr", 0 }, { "me", 0 }, { "ms", 0 }, { "ac", 0 }, { "sd", 0 },
};

uint32_t smaps_parse_vmflags(const char *s)
{
	uint32_t flags = 0;

	while (*s && *s != '\n') {
		uint32_t bit = VMF_UNKNOWN;
		size_t n;

		while (*s == ' ' || *s == '\t')
			s++;
		n = strcspn(s, " \t\n");
		if (!n)
			break;
		for (size_t i = 0; n == 2 && i < sizeof(vmflag_names) / sizeof(vmflag_names[0]); i++)
			if (!memcmp(s, vmflag_names[i].name, 2))
				bit = vmflag_names[i].bit;
		flags |= bit;
		s += n;
	}
	return flags;
}

/* A header line starts with the hex start address and a '-'; a body line
 * with a field name ("Anonymous:" starts with a hex digit too). */
static bool is_header(const char *line, size_t len)
{
	size_t i = 0;

	while (i < len && is_hex(line[i]))
		i++;
	return i > 0 && i < len && line[i] == '-';
}

/* "Name:   123 kB" (or just "Name:   123") -> 123 when line starts with
 * name. */
static bool field_kb(const char *line, size_t len, const char *name, uint64_t *kb)
{
	size_t n = strlen(name);
	const char *p = line + n, *end = line + len;

	if (len <= n || memcmp(line, name, n))
		return false;
	while (p < end && *p == ' ')
		p++;
	if (parse_num(&p, end, 10, kb))
		return false;
	return true;
}

static int vma_list_add(struct vma_list *l, const struct vma *v)
{
	if (l->nr == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct vma *nv = realloc(l->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->nr++] = *v;
	return 0;
}

int smaps_parse(const char *buf, struct vma_list *out, size_t *err_line)
{
	const char *line = buf;
	size_t lineno = 0;
	struct vma *cur = NULL;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		uint64_t kb;

		lineno++;
		if (is_header(line, len)) {
			struct vma v;

			ret = smaps_parse_header(line, len, &v);
			if (ret)
				goto err;
			if (out->nr && v.start < out->v[out->nr - 1].end) {
				free(v.path);
				ret = -EINVAL;
				goto err;
			}
			ret = vma_list_add(out, &v);
			if (ret) {
				free(v.path);
				goto err;
			}
			cur = &out->v[out->nr - 1];
		} else if (len == 0) {
			/* tolerated: a trailing empty line */
		} else if (!cur) {
			ret = -EINVAL;
			goto err;
		} else if (len >= 8 && !memcmp(line, "VmFlags:", 8)) {
			char tmp[256];
			size_t n = len - 8 < sizeof(tmp) - 1 ? len - 8 : sizeof(tmp) - 1;

			memcpy(tmp, line + 8, n);
			tmp[n] = '\0';
			cur->vmflags = smaps_parse_vmflags(tmp);
			cur->has_vmflags = true;
		} else if (field_kb(line, len, "Anonymous:", &kb)) {
			cur->anon_kb = kb;
		} else if (field_kb(line, len, "Swap:", &kb)) {
			cur->swap_kb = kb;
		} else if (field_kb(line, len, "KernelPageSize:", &kb)) {
			cur->kernel_page_kb = kb;
		} else if (field_kb(line, len, "ProtectionKey:", &kb)) {
			cur->pkey = kb;
		}
		/* Other fields (Rss, Pss, ...) are not needed. */
		if (!nl)
			break;
		line = nl + 1;
	}
	return 0;
err:
	if (err_line)
		*err_line = lineno;
	vma_list_free(out);
	return ret;
}

void vma_list_free(struct vma_list *l)
{
	for (size_t i = 0; i < l->nr; i++)
		free(l->v[i].path);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* The file behind MAP_SHARED|MAP_ANONYMOUS ("dev/zero" on the internal shm
 * mount), a SysV segment or a memfd: unlinked shmem, so device major 0.
 * A memfd's mapping is dumped like the others (its contents, once, by
 * inode), since no path leads back to it. */
static bool is_anon_shmem_path(const struct vma *v)
{
	if (v->dev_major != 0)
		return false;
	if (!strcmp(v->path, "/dev/zero (deleted)"))
		return true;
	return (starts_with(v->path, "/SYSV") || starts_with(v->path, "/memfd:")) &&
	       ends_with(v->path, " (deleted)");
}

static const struct {
	const char *name;
	int kind;
} special_names[] = {
	{ "[vdso]", VMA_KIND__VMA_VDSO },
	{ "[vvar]", VMA_KIND__VMA_VVAR },
	{ "[vvar_vclock]", VMA_KIND__VMA_VVAR_VCLOCK },
	{ "[vsyscall]", VMA_KIND__VMA_VSYSCALL },
};

/* madvise() state visible in VmFlags that restore re-applies, stored as
 * 1 << MADV_x. VM_DONTEXPAND ("de") has no madvise and is only set by the
 * kernel on special mappings, so it is not recorded. */
static const struct {
	uint32_t vmf;
	int advice;
} madv_map[] = {
	{ VMF_SR, MADV_SEQUENTIAL }, { VMF_RR, MADV_RANDOM },
	{ VMF_DC, MADV_DONTFORK }, { VMF_HG, MADV_HUGEPAGE },
	{ VMF_NH, MADV_NOHUGEPAGE }, { VMF_MG, MADV_MERGEABLE },
	{ VMF_DD, MADV_DONTDUMP }, { VMF_WF, MADV_WIPEONFORK },
};

int vma_classify(struct vma *v, const char **why)
{
	bool shared = v->perms[3] == 's';
	const char *p = v->path;

	*why = NULL;
	v->prot = (v->perms[0] == 'r' ? PROT_READ : 0) |
		  (v->perms[1] == 'w' ? PROT_WRITE : 0) |
		  (v->perms[2] == 'x' ? PROT_EXEC : 0);
	v->flags = 0;
	v->madv = 0;
	v->mlock = VMA_MLOCK_NONE;
	v->sealed = v->maywrite = false;

	for (size_t i = 0; p && i < sizeof(special_names) / sizeof(special_names[0]); i++) {
		if (!strcmp(p, special_names[i].name)) {
			/* Placed by the kernel; restore only moves them. */
			v->kind = special_names[i].kind;
			v->flags = MAP_PRIVATE;
			return vmflags_audit(v, why);
		}
	}
	if (v->kernel_page_kb != 4) {
		*why = "huge page (hugetlbfs) mapping";
		return -ENOTSUP;
	}
	if (v->pkey) {
		*why = "memory protection key (pkey_mprotect)";
		return -ENOTSUP;
	}

	if (!p) {
		if (shared) {
			*why = "shared mapping without a file";
			return -ENOTSUP;
		}
		v->kind = VMA_KIND__VMA_ANON_PRIVATE;
	} else if (p[0] == '[') {
		if (!strcmp(p, "[heap]") || !strcmp(p, "[stack]") || starts_with(p, "[anon:")) {
			if (shared) {
				*why = "shared mapping of a private anonymous name";
				return -ENOTSUP;
			}
			v->kind = VMA_KIND__VMA_ANON_PRIVATE;
		} else if (starts_with(p, "[anon_shmem:") && shared) {
			v->kind = VMA_KIND__VMA_ANON_SHARED;
		} else {
			*why = "unknown special mapping";
			return -ENOTSUP;
		}
	} else if (p[0] != '/') {
		*why = "mapping of a file with no path (anon_inode, ...)";
		return -ENOTSUP;
	} else if (is_anon_shmem_path(v)) {
		if (!shared) {
			*why = "private mapping of a shared memory object";
			return -ENOTSUP;
		}
		v->kind = VMA_KIND__VMA_ANON_SHARED;
	} else if (!shared && !strcmp(p, "/dev/zero")) {
		/* MAP_PRIVATE of /dev/zero is plain anonymous memory. */
		v->kind = VMA_KIND__VMA_ANON_PRIVATE;
	} else {
		v->kind = shared ? VMA_KIND__VMA_FILE_SHARED : VMA_KIND__VMA_FILE_PRIVATE;
	}

	v->flags = shared ? MAP_SHARED : MAP_PRIVATE;
	if (v->kind == VMA_KIND__VMA_ANON_PRIVATE || v->kind == VMA_KIND__VMA_ANON_SHARED)
		v->flags |= MAP_ANONYMOUS;
	if (v->vmflags & VMF_GD)
		v->flags |= MAP_GROWSDOWN;
	if (v->vmflags & VMF_NR)
		v->flags |= MAP_NORESERVE;
	/* Locked after the pages are written (MAP_LOCKED would fault in all
	 * of a lock-on-fault VMA); lf comes with lo. */
	if (v->vmflags & VMF_LF)
		v->mlock = VMA_MLOCK_ONFAULT;
	else if (v->vmflags & VMF_LO)
		v->mlock = VMA_MLOCK_ALL;
	v->sealed = v->vmflags & VMF_SL;
	/* mprotect(PROT_WRITE) of a shared file mapping needs the file open
	 * for writing: a read-only VMA of a writable fd keeps VM_MAYWRITE. */
	v->maywrite = v->kind == VMA_KIND__VMA_FILE_SHARED && (v->vmflags & VMF_MW);
	for (size_t i = 0; i < sizeof(madv_map) / sizeof(madv_map[0]); i++)
		if (v->vmflags & madv_map[i].vmf)
			v->madv |= 1u << madv_map[i].advice;
	return vmflags_audit(v, why);
}

/* VmFlags no restore can give back, whatever the mapping. */
static const struct {
	uint32_t vmf;
	const char *why;
} refused_vmflags[] = {
	{ VMF_SS, "shadow stack" },
	{ VMF_IO | VMF_PF, "device memory (VM_IO/VM_PFNMAP)" },
	{ VMF_UF, "registered with a userfaultfd (VmFlags um/uw/ui)" },
	{ VMF_HT, "hugetlb mapping (VmFlags ht)" },
	{ VMF_SF, "MAP_SYNC mapping of a DAX file (VmFlags sf)" },
	{ VMF_MM, "driver mapping of mixed pages and PFNs (VmFlags mm)" },
	{ VMF_AR, "architecture-specific mapping (VmFlags ar)" },
	{ VMF_DP, "MAP_DROPPABLE memory (VmFlags dp)" },
	{ VMF_UNKNOWN, "a VmFlags mnemonic minicr does not know" },
};

int vmflags_audit(const struct vma *v, const char **why)
{
	uint32_t f = v->vmflags;

	switch (v->kind) {
	case VMA_KIND__VMA_VDSO:
	case VMA_KIND__VMA_VVAR:
	case VMA_KIND__VMA_VVAR_VCLOCK:
	case VMA_KIND__VMA_VSYSCALL:
		/* pf io de dd are the kernel's own on these; map_vdso()
		 * gives them back, but it does not seal. */
		if (f & VMF_SL) {
			*why = "sealed vDSO/vvar (VmFlags sl)";
			return -ENOTSUP;
		}
		return 0;
	default:
		break;
	}
	for (size_t i = 0; i < sizeof(refused_vmflags) / sizeof(refused_vmflags[0]); i++) {
		if (f & refused_vmflags[i].vmf) {
			*why = refused_vmflags[i].why;
			return -ENOTSUP;
		}
	}
	/* Outside the special mappings only drivers (and the aio ring) set
	 * VM_DONTEXPAND: no mmap() of a file minicr can reopen gives it. */
	if (f & VMF_DE) {
		*why = "mapping a driver made unexpandable (VmFlags de)";
		return -ENOTSUP;
	}
	/* Restore maps shared memory from a writable memfd; without mw the
	 * task mapped it from a read-only fd or a write-sealed memfd, and
	 * mprotect(PROT_WRITE) would work after restore where it did not. */
	if (v->kind == VMA_KIND__VMA_ANON_SHARED && v->has_vmflags && !(f & VMF_MW)) {
		*why = "shared memory mapped from a read-only fd or a write-sealed memfd (VmFlags without mw)";
		return -ENOTSUP;
	}
	return 0;
}

bool vma_is_private(const struct vma *v)
{
	return v->kind == VMA_KIND__VMA_ANON_PRIVATE || v->kind == VMA_KIND__VMA_FILE_PRIVATE;
}

bool vma_may_have_pages(const struct vma *v)
{
	return vma_is_private(v) && (v->anon_kb || v->swap_kb || (v->vmflags & VMF_GU));
}

bool pme_wanted(uint64_t pme, uint64_t zero_pfn)
{
	if (!(pme & (PME_PRESENT | PME_SWAP)) || (pme & (PME_FILE | PME_GUARD)))
		return false;
	/* The PFN bits of a swap entry are its swap type and offset. */
	if ((pme & PME_PRESENT) && zero_pfn && (pme & PME_PFN_MASK) == zero_pfn)
		return false;
	return true;
}

bool pme_cow_shared(uint64_t child, uint64_t parent, uint64_t zero_pfn)
{
	if (!(child & PME_PRESENT) || !(parent & PME_PRESENT) || !pme_wanted(child, zero_pfn))
		return false;
	return (child & PME_PFN_MASK) && (child & PME_PFN_MASK) == (parent & PME_PFN_MASK);
}
