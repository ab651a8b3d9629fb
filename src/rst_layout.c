#include "rst_layout.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "mm.pb-c.h"

static uint64_t page_up(uint64_t v)
{
	return (v + LAY_PAGE_SIZE - 1) & ~(LAY_PAGE_SIZE - 1);
}

static bool page_aligned(uint64_t v)
{
	return !(v & (LAY_PAGE_SIZE - 1));
}

void lay_maps_free(struct lay_map *m, size_t nr)
{
	if (!m)
		return;
	for (size_t i = 0; i < nr; i++)
		free(m[i].name);
	free(m);
}

/* "start-end perms offset major:minor inode   name" */
static int parse_line(const char *line, size_t len, struct lay_map *m)
{
	char tmp[512], perms[5];
	unsigned long long s, e, off, ino;
	unsigned int maj, min;
	int n = 0;
	const char *name;
	size_t hlen = len < sizeof(tmp) - 1 ? len : sizeof(tmp) - 1;

	/* The header fields are short; the name may be up to PATH_MAX and is
	 * taken from the original line. */
	memcpy(tmp, line, hlen);
	tmp[hlen] = '\0';
	if (sscanf(tmp, "%llx-%llx %4s %llx %x:%x %llu%n", &s, &e, perms, &off, &maj, &min,
		   &ino, &n) != 7 || strlen(perms) != 4 || s >= e)
		return -EINVAL;
	if ((perms[0] != 'r' && perms[0] != '-') || (perms[1] != 'w' && perms[1] != '-') ||
	    (perms[2] != 'x' && perms[2] != '-') || (perms[3] != 's' && perms[3] != 'p'))
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	m->start = s;
	m->end = e;
	m->prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
		  (perms[2] == 'x' ? PROT_EXEC : 0);
	m->shared = perms[3] == 's';
	m->pgoff = off;
	m->dev_major = maj;
	m->dev_minor = min;
	m->ino = ino;
	name = line + n;
	while (name < line + len && (*name == ' ' || *name == '\t'))
		name++;
	m->name = strndup(name, line + len - name);
	return m->name ? 0 : -ENOMEM;
}

int lay_maps_parse(const char *buf, struct lay_map **out, size_t *nr, size_t *err_line)
{
	struct lay_map *m = NULL, *nm;
	size_t n = 0, cap = 0, lineno = 0;
	const char *p = buf;
	int ret;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		lineno++;
		if (len) {
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				nm = realloc(m, cap * sizeof(*m));
				if (!nm) {
					ret = -ENOMEM;
					goto err;
				}
				m = nm;
			}
			ret = parse_line(p, len, &m[n]);
			if (ret)
				goto err;
			n++;
		}
		p += len + (nl ? 1 : 0);
	}
	*out = m;
	*nr = n;
	return 0;
err:
	*err_line = lineno;
	lay_maps_free(m, n);
	return ret;
}

int lay_vmas_check(const struct lay_vma *v, size_t nr, size_t *bad, const char **why)
{
	uint64_t prev_end = 0;

	for (size_t i = 0; i < nr; i++) {
		*bad = i;
		if (!page_aligned(v[i].start) || !page_aligned(v[i].end)) {
			*why = "bounds not page aligned";
			return -EINVAL;
		}
		if (v[i].start >= v[i].end) {
			*why = "empty or inverted range";
			return -EINVAL;
		}
		if (v[i].start < prev_end) {
			*why = "overlaps or precedes the previous VMA";
			return -EINVAL;
		}
		if (v[i].kind == VMA_KIND__VMA_VSYSCALL) {
			/* Fixed by the kernel above the user address space. */
			if (v[i].start < LAY_TASK_SIZE) {
				*why = "[vsyscall] inside the user address space";
				return -EINVAL;
			}
		} else if (v[i].end > LAY_TASK_SIZE) {
			*why = "beyond the 47-bit user address space";
			return -EINVAL;
		}
		prev_end = v[i].end;
	}
	return 0;
}

static int range_cmp(const void *a, const void *b)
{
	const struct lay_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int lay_pick_tramp(const struct lay_range *busy, size_t nr, uint64_t lo, uint64_t hi,
		   uint64_t len, uint64_t *addr)
{
	struct lay_range *s = NULL;
	uint64_t cand = page_up(lo);

	if (nr) {
		s = malloc(nr * sizeof(*s));
		if (!s)
			return -ENOMEM;
		memcpy(s, busy, nr * sizeof(*s));
		qsort(s, nr, sizeof(*s), range_cmp);
	}
	for (size_t i = 0; i < nr; i++) {
		uint64_t gs = s[i].start > LAY_TRAMP_GUARD ? s[i].start - LAY_TRAMP_GUARD : 0;
		uint64_t ge = s[i].end + LAY_TRAMP_GUARD;

		if (ge < s[i].end)      /* wrapped: nothing fits above */
			ge = UINT64_MAX & ~(LAY_PAGE_SIZE - 1);
		if (cand + len <= gs)
			break;
		if (page_up(ge) > cand)
			cand = page_up(ge);
	}
	free(s);
	if (cand < lo || cand + len < cand || cand + len > hi)
		return -ENOSPC;
	*addr = cand;
	return 0;
}

static const char *const vdso_names[LAY_NR_VDSO] = {
	[LAY_VVAR] = "[vvar]",
	[LAY_VVAR_VCLOCK] = "[vvar_vclock]",
	[LAY_VDSO] = "[vdso]",
};

int lay_vdso_from_maps(const struct lay_map *m, size_t nr, struct lay_vdso *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < nr; i++) {
		for (int k = 0; k < LAY_NR_VDSO; k++) {
			if (strcmp(m[i].name, vdso_names[k]))
				continue;
			if (out->present[k])
				return -EINVAL;
			out->present[k] = true;
			out->r[k].start = m[i].start;
			out->r[k].end = m[i].end;
		}
	}
	return 0;
}

static uint64_t vdso_low(const struct lay_vdso *v)
{
	uint64_t low = UINT64_MAX;

	for (int k = 0; k < LAY_NR_VDSO; k++)
		if (v->present[k] && v->r[k].start < low)
			low = v->r[k].start;
	return low;
}

int lay_vdso_check(const struct lay_vdso *rec, const struct lay_vdso *self, uint64_t *base,
		   const char **why)
{
	uint64_t rlow = vdso_low(rec), slow = vdso_low(self);

	if (rlow == UINT64_MAX) {
		*base = 0;
		return 0;
	}
	for (int k = 0; k < LAY_NR_VDSO; k++) {
		if (rec->present[k] != self->present[k]) {
			*why = "the recorded set of [vvar]/[vvar_vclock]/[vdso] mappings is not the one this kernel provides";
			return -EINVAL;
		}
		if (!rec->present[k])
			continue;
		if (rec->r[k].end - rec->r[k].start != self->r[k].end - self->r[k].start) {
			*why = "a [vvar]/[vvar_vclock]/[vdso] mapping has another size on this kernel";
			return -EINVAL;
		}
		if (rec->r[k].start - rlow != self->r[k].start - slow) {
			*why = "[vvar]/[vvar_vclock]/[vdso] are laid out differently on this kernel";
			return -EINVAL;
		}
	}
	*base = rlow;
	return 0;
}

static bool kind_private(int kind)
{
	return kind == VMA_KIND__VMA_ANON_PRIVATE || kind == VMA_KIND__VMA_FILE_PRIVATE;
}

int lay_runs_assign(struct lay_vma *v, size_t nr, const struct lay_run *runs, size_t nr_runs,
		    uint64_t *total, size_t *bad, const char **why)
{
	uint64_t prev_end = 0, pages = 0;
	size_t i = 0;

	for (size_t r = 0; r < nr_runs; r++) {
		uint64_t pos = runs[r].vaddr, end;

		*bad = r;
		if (!page_aligned(pos) || !runs[r].nr_pages) {
			*why = "run not page aligned or empty";
			return -EINVAL;
		}
		if (runs[r].nr_pages > (LAY_TASK_SIZE - pos) / LAY_PAGE_SIZE) {
			*why = "run beyond the user address space";
			return -EINVAL;
		}
		end = pos + runs[r].nr_pages * LAY_PAGE_SIZE;
		if (pos < prev_end) {
			*why = "runs not ascending or overlapping";
			return -EINVAL;
		}
		/* Runs ascend, so the VMA cursor only moves forward. */
		while (i < nr && v[i].end <= pos)
			i++;
		while (pos < end) {
			if (i >= nr || v[i].start > pos) {
				*why = "pages recorded outside any VMA";
				return -EINVAL;
			}
			if (!kind_private(v[i].kind)) {
				*why = "pages recorded in a mapping that is not private memory";
				return -EINVAL;
			}
			v[i].has_pages = true;
			pos = v[i].end < end ? v[i].end : end;
			if (pos == v[i].end)
				i++;
		}
		prev_end = end;
		pages += runs[r].nr_pages;
	}
	*total = pages;
	return 0;
}

#define LAY_MAP_EXTRA (MAP_GROWSDOWN | MAP_NORESERVE | MAP_LOCKED)

int lay_mmap_args(const struct lay_vma *v, uint32_t *prot, uint32_t *flags, const char **why)
{
	uint32_t known = MAP_TYPE | MAP_ANONYMOUS | LAY_MAP_EXTRA;
	uint32_t type = v->flags & MAP_TYPE, f;
	bool shared, anon;

	switch (v->kind) {
	case VMA_KIND__VMA_ANON_PRIVATE:
		shared = false, anon = true;
		break;
	case VMA_KIND__VMA_FILE_PRIVATE:
		shared = false, anon = false;
		break;
	case VMA_KIND__VMA_FILE_SHARED:
		shared = true, anon = false;
		break;
	case VMA_KIND__VMA_ANON_SHARED:
		/* Recreated as a MAP_SHARED mapping of a memfd. */
		shared = true, anon = true;
		break;
	default:
		*why = "not a mapping recreated by mmap";
		return -ENOTSUP;
	}
	if (v->flags & ~known) {
		*why = "recorded MAP_* flags minicr cannot reproduce";
		return -ENOTSUP;
	}
	/* The dumper may leave the type out; if it is there it must agree. */
	if ((type && type != (shared ? MAP_SHARED : MAP_PRIVATE)) ||
	    ((v->flags & MAP_ANONYMOUS) && !anon)) {
		*why = "recorded MAP_* flags contradict the VMA kind";
		return -EINVAL;
	}
	if ((v->flags & MAP_GROWSDOWN) && v->kind != VMA_KIND__VMA_ANON_PRIVATE) {
		*why = "MAP_GROWSDOWN on a mapping that is not private anonymous memory";
		return -ENOTSUP;
	}
	if (v->prot & ~(uint32_t)(PROT_READ | PROT_WRITE | PROT_EXEC)) {
		*why = "recorded PROT_* bits minicr cannot reproduce";
		return -ENOTSUP;
	}
	f = (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED_NOREPLACE | (v->flags & LAY_MAP_EXTRA);
	if (v->kind == VMA_KIND__VMA_ANON_PRIVATE)
		f |= MAP_ANONYMOUS;
	*flags = f;
	/* process_vm_writev() honours page protection (no FOLL_FORCE): a
	 * VMA whose contents are written is mapped writable first and gets
	 * its recorded protection afterwards. */
	*prot = v->prot | (v->has_pages ? PROT_WRITE : 0);
	return 0;
}

int lay_guards_check(const struct lay_vma *v, const uint64_t *g, size_t n, const char **why)
{
	uint64_t prev = v->start;

	if (!n)
		return 0;
	if (n % 2) {
		*why = "odd number of guard range bounds";
		return -EINVAL;
	}
	if (!kind_private(v->kind)) {
		*why = "guard ranges in a mapping that is not private memory";
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i += 2) {
		if (!page_aligned(g[i]) || !page_aligned(g[i + 1]) || g[i] >= g[i + 1]) {
			*why = "guard range not page aligned or empty";
			return -EINVAL;
		}
		if (g[i] < prev || g[i + 1] > v->end) {
			*why = "guard range outside its VMA, not ascending or overlapping";
			return -EINVAL;
		}
		prev = g[i + 1];
	}
	return 0;
}

static bool map_is_anon(const struct lay_map *m)
{
	return !m->ino && !m->dev_major && !m->dev_minor && m->name[0] != '/';
}

static bool map_skipped(const struct lay_map *g, struct lay_range skip)
{
	if (g->start >= LAY_TASK_SIZE)
		return true;
	return skip.start < skip.end && g->start >= skip.start && g->end <= skip.end;
}

static int attrs_differ(const struct lay_map *e, const struct lay_map *g, uint64_t x,
			const char **why)
{
	if (e->prot != g->prot) {
		*why = "protection differs";
		return 1;
	}
	if (e->shared != g->shared) {
		*why = "private/shared differs";
		return 1;
	}
	if (!e->any_ident) {
		if (map_is_anon(e) != map_is_anon(g) || e->ino != g->ino ||
		    e->dev_major != g->dev_major || e->dev_minor != g->dev_minor) {
			*why = "backing object (device, inode) differs";
			return 1;
		}
		if (!map_is_anon(e) || (e->start == g->start && e->end == g->end)) {
			if (strcmp(e->name, g->name)) {
				*why = "name differs";
				return 1;
			}
		}
	}
	if (!map_is_anon(e) || e->any_ident) {
		if (e->pgoff + (x - e->start) != g->pgoff + (x - g->start)) {
			*why = "file offset differs";
			return 1;
		}
	}
	return 0;
}

int lay_maps_compare(const struct lay_map *exp, size_t ne, const struct lay_map *got, size_t ng,
		     struct lay_range skip, uint64_t *addr, size_t *ie, size_t *ig,
		     const char **why)
{
	size_t i = 0, j = 0;
	uint64_t x = 0;

	for (;;) {
		uint64_t es, gs, end;

		while (j < ng && map_skipped(&got[j], skip))
			j++;
		if (i >= ne && j >= ng)
			return 0;
		es = i < ne ? (exp[i].start > x ? exp[i].start : x) : UINT64_MAX;
		gs = j < ng ? (got[j].start > x ? got[j].start : x) : UINT64_MAX;
		*ie = i < ne ? i : SIZE_MAX;
		*ig = j < ng ? j : SIZE_MAX;
		if (es != gs) {
			*addr = es < gs ? es : gs;
			*why = es < gs ? "recorded mapping missing" : "unexpected mapping";
			return -EINVAL;
		}
		x = es;
		if (attrs_differ(&exp[i], &got[j], x, why)) {
			*addr = x;
			return -EINVAL;
		}
		end = exp[i].end < got[j].end ? exp[i].end : got[j].end;
		if (exp[i].end == end)
			i++;
		if (got[j].end == end)
			j++;
		x = end;
	}
}
