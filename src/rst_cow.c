#include "rst_cow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "image.h"
#include "imgtypes.h"
#include "log.h"
#include "util.h"

#define COW_PAGE   4096ULL
#define COW_MAP_OK (MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE)

bool rst_cow_eligible(const VmaEntry *e)
{
	return e->kind == VMA_KIND__VMA_ANON_PRIVATE && !(e->flags & ~(uint32_t)COW_MAP_OK) &&
	       !e->n_guards && e->start < e->end;
}

bool rst_cow_slot_has(const struct rst_cow_slot *s, uint64_t start, uint64_t end)
{
	for (uint32_t i = 0; s && i < s->nr && i < RST_COW_MAX; i++)
		if (s->r[i].start == start && s->r[i].end == end)
			return true;
	return false;
}

static bool kid_shares(const MmEntry *k, const VmaEntry *e)
{
	for (size_t i = 0; i < k->n_vmas; i++)
		if (k->vmas[i]->start == e->start && k->vmas[i]->end == e->end &&
		    k->vmas[i]->n_cow_parent)
			return true;
	return false;
}

void rst_cow_decide(const MmEntry *mm, const struct rst_cow_slot *forker,
		    const MmEntry *const *kids, size_t nr_kids, uint8_t *how)
{
	for (size_t i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *e = mm->vmas[i];

		how[i] = RST_COW_NONE;
		if (!rst_cow_eligible(e))
			continue;
		if (e->n_cow_parent && rst_cow_slot_has(forker, e->start, e->end)) {
			how[i] = RST_COW_INHERITED;
			continue;
		}
		for (size_t k = 0; k < nr_kids; k++)
			if (kids[k] && kid_shares(kids[k], e))
				how[i] = RST_COW_FRESH;
	}
}

/* The recorded page runs of the task with their offsets in pages-PID.img. */
struct cow_runs {
	uint64_t *vaddr, *nr, *off;
	size_t n;
	int fd;
};

static int read_runs(int dirfd, int img_pid, struct cow_runs *r)
{
	struct img_reader rd = { 0 };
	char name[64];
	ProtobufCMessage *msg;
	uint64_t off = IMG_HDR_SIZE, size;
	size_t cap = 0;
	int ret;

	ret = img_file_name(IMG_PAGEMAP, img_pid, name, sizeof(name));
	if (!ret)
		ret = img_reader_open(dirfd, name, &img_types[IMG_PAGEMAP], &rd);
	if (ret)
		return ret;
	while ((ret = img_reader_next(&rd, &msg)) == 1) {
		PagemapEntry *pe = (PagemapEntry *)msg;

		if (r->n == cap) {
			cap = cap ? cap * 2 : 64;
			r->vaddr = realloc(r->vaddr, cap * sizeof(uint64_t));
			r->nr = realloc(r->nr, cap * sizeof(uint64_t));
			r->off = realloc(r->off, cap * sizeof(uint64_t));
			if (!r->vaddr || !r->nr || !r->off) {
				protobuf_c_message_free_unpacked(msg, NULL);
				ret = -ENOMEM;
				break;
			}
		}
		r->vaddr[r->n] = pe->vaddr;
		r->nr[r->n] = pe->nr_pages;
		r->off[r->n++] = off;
		off += pe->nr_pages * COW_PAGE;
		protobuf_c_message_free_unpacked(msg, NULL);
	}
	img_reader_close(&rd);
	if (ret < 0)
		return ret;
	return img_raw_open(dirfd, IMG_PAGES, img_pid, &r->fd, &size);
}

static int read_at(int fd, uint64_t addr, uint64_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pread(fd, (void *)(uintptr_t)addr, len, off);

		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		addr += n;
		off += n;
		len -= n;
	}
	return 0;
}

/* The recorded cow_parent pairs of e: ascending, page aligned, inside e. */
static bool cow_pairs_ok(const VmaEntry *e)
{
	uint64_t prev = e->start;

	if (e->n_cow_parent % 2)
		return false;
	for (size_t i = 0; i < e->n_cow_parent; i += 2) {
		uint64_t s = e->cow_parent[i], t = e->cow_parent[i + 1];

		if (s < prev || s >= t || t > e->end || s % COW_PAGE || t % COW_PAGE)
			return false;
		prev = t;
	}
	return true;
}

/* e's mapping in this very process: a fresh one, or the inherited one. */
static int fill_mapped(const VmaEntry *e, int how)
{
	uint64_t len = e->end - e->start;

	if (how == RST_COW_FRESH) {
		void *p = mmap((void *)(uintptr_t)e->start, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE |
			       (e->flags & MAP_NORESERVE), -1, 0);

		if (p != (void *)(uintptr_t)e->start) {
			if (p != MAP_FAILED)
				munmap(p, len);
			return -EEXIST;
		}
	}
	return 0;
}

/* Fill e: a fresh mapping with all its pages, the inherited one with only
 * its own (cow_parent pages stay shared, the rest is dropped first). */
static int fill_pages(const VmaEntry *e, int how, const struct cow_runs *r)
{
	size_t c = 0;

	if (how == RST_COW_INHERITED) {
		uint64_t pos = e->start;

		if (!cow_pairs_ok(e))
			return -EINVAL;
		for (size_t i = 0; i <= e->n_cow_parent; i += 2) {
			uint64_t till = i < e->n_cow_parent ? e->cow_parent[i] : e->end;

			if (till > pos && madvise((void *)(uintptr_t)pos, till - pos, MADV_DONTNEED))
				return -errno;
			if (i < e->n_cow_parent)
				pos = e->cow_parent[i + 1];
		}
	}
	for (size_t k = 0; k < r->n; k++) {
		uint64_t s = r->vaddr[k], t = s + r->nr[k] * COW_PAGE;

		if (t <= e->start || s >= e->end)
			continue;
		if (s < e->start)
			s = e->start;
		if (t > e->end)
			t = e->end;
		while (s < t) {
			uint64_t next = t;
			int ret;

			if (how == RST_COW_INHERITED) {
				while (c < e->n_cow_parent && e->cow_parent[c + 1] <= s)
					c += 2;
				if (c < e->n_cow_parent && e->cow_parent[c] <= s) {
					s = e->cow_parent[c + 1] < t ? e->cow_parent[c + 1] : t;
					continue;   /* still the forker's page */
				}
				if (c < e->n_cow_parent && e->cow_parent[c] < next)
					next = e->cow_parent[c];
			}
			ret = read_at(r->fd, s, next - s, r->off[k] + (s - r->vaddr[k]));
			if (ret)
				return ret;
			s = next;
		}
	}
	return 0;
}

void rst_cow_prepare(int dirfd, int img_pid, const struct rst_cow_slot *forker,
		     const int *kid_pids, size_t nr_kids, struct rst_cow_slot *out)
{
	struct cow_runs r = { .fd = -1 };
	ProtobufCMessage *msg = NULL;
	MmEntry *mm = NULL, **kids = calloc(nr_kids ? nr_kids : 1, sizeof(*kids));
	uint8_t *how = NULL;
	bool any = false;
	int ret;

	out->nr = 0;
	if (!kids || img_read_one(dirfd, IMG_MM, img_pid, &msg))
		goto out;
	mm = (MmEntry *)msg;
	for (size_t k = 0; k < nr_kids; k++)
		if (!img_read_one(dirfd, IMG_MM, kid_pids[k], &msg))
			kids[k] = (MmEntry *)msg;
	how = calloc(mm->n_vmas ? mm->n_vmas : 1, 1);
	if (!how)
		goto out;
	rst_cow_decide(mm, forker, (const MmEntry *const *)kids, nr_kids, how);
	/* What the forker kept and this task does not: minicr's own memory
	 * must not keep it, and a fresh mapping may want its place. */
	for (uint32_t i = 0; forker && i < forker->nr && i < RST_COW_MAX; i++) {
		bool used = false;

		for (size_t v = 0; v < mm->n_vmas; v++)
			used |= how[v] == RST_COW_INHERITED && mm->vmas[v]->start == forker->r[i].start &&
				mm->vmas[v]->end == forker->r[i].end;
		if (!used)
			munmap((void *)(uintptr_t)forker->r[i].start, forker->r[i].end - forker->r[i].start);
	}
	for (size_t v = 0; v < mm->n_vmas; v++)
		any |= how[v] != RST_COW_NONE;
	if (!any || read_runs(dirfd, img_pid, &r))
		goto out;
	for (size_t v = 0; v < mm->n_vmas; v++) {
		const VmaEntry *e = mm->vmas[v];

		if (how[v] == RST_COW_NONE)
			continue;
		/* A fresh mapping that failed maps nothing (minicr's own
		 * memory may be there): only what is ours is unmapped. */
		ret = out->nr < RST_COW_MAX ? fill_mapped(e, how[v]) : -ENOSPC;
		if (!ret) {
			ret = fill_pages(e, how[v], &r);
			if (ret)
				munmap((void *)(uintptr_t)e->start, e->end - e->start);
		} else if (how[v] == RST_COW_INHERITED) {
			munmap((void *)(uintptr_t)e->start, e->end - e->start);
		}
		if (ret) {
			pr_debug("task %d: VMA %llx-%llx restored without copy-on-write sharing: %s",
				 img_pid, (unsigned long long)e->start, (unsigned long long)e->end,
				 errstr(ret));
			continue;
		}
		out->r[out->nr].start = e->start;
		out->r[out->nr].end = e->end;
		out->nr++;
	}
	if (out->nr)
		pr_debug("task %d: %u VMAs filled before its children are forked", img_pid, out->nr);
out:
	if (r.fd >= 0)
		close(r.fd);
	free(r.vaddr);
	free(r.nr);
	free(r.off);
	free(how);
	for (size_t k = 0; kids && k < nr_kids; k++)
		if (kids[k])
			mm_entry__free_unpacked(kids[k], NULL);
	free(kids);
	if (mm)
		mm_entry__free_unpacked(mm, NULL);
}
