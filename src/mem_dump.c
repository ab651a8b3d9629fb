#include "mem_dump.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "image.h"
#include "infect.h"
#include "log.h"
#include "refuse.h"
#include "mm.pb-c.h"
#include "proc_parse.h"
#include "progress.h"
#include "util.h"

#define PAGE_SZ       4096UL
/* Big enough that each process_vm_readv()/write() moves megabytes, small
 * enough to stay in the CPU caches between the two copies. */
#define PAGE_BUF_SIZE (2UL << 20)
#define PM_CHUNK      65536           /* pagemap entries per read: 512 KiB */
/* Where in its first page each buffer starts. Page data is copied twice:
 * from the task's pages (offset 0 in a page) into the buffer, and from the
 * buffer into the image at file offset IMG_HDR_SIZE + n * 4096. When a
 * copy's destination lies a few bytes past its source modulo 4096 (offset
 * 0 to 4, as a page-aligned buffer gives the write), loads alias just
 * issued stores ("4K aliasing") and the copy runs 2-3 times slower; a
 * cache line off both is as fast as aligned copies (measured for 1 GiB:
 * read 0.19 s and write 0.67 s, against 0.26 s / 1.35 s at offset 0 and
 * 0.56 s / 0.67 s at offset 4). */
#define BUF_SKEW      64
#define SMAPS_MAX     (256u << 20)

/* SysV segments and MAP_SHARED|MAP_ANONYMOUS objects share the internal
 * shm mount, but a segment's inode number is its IPC id while the others'
 * come from a counter: the two can meet, and images are named by number
 * alone. The set keeps the kind in the top bit to notice that. */
#define SHM_SYSV_BIT (1ULL << 63)

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
}

static int add_u64(uint64_t **arr, size_t *nr, size_t *cap, uint64_t v)
{
	if (*nr == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		uint64_t *n = realloc(*arr, c * sizeof(**arr));

		if (!n)
			return -ENOMEM;
		*arr = n;
		*cap = c;
	}
	(*arr)[(*nr)++] = v;
	return 0;
}

/* ---- the shared zero page ---- */

static uint64_t self_pme(int fd, const void *addr)
{
	uint64_t pme = 0;

	if (pread(fd, &pme, sizeof(pme), (uintptr_t)addr / PAGE_SZ * sizeof(pme)) != sizeof(pme))
		return 0;
	return pme;
}

/* A read fault on untouched anonymous memory maps the zero page: two
 * mappings read that way showing the same PFN can only be it. */
static uint64_t find_zero_pfn(void)
{
	volatile char *a, *b;
	uint64_t pa = 0, pb = 0;
	int fd;

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	a = mmap(NULL, PAGE_SZ, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	b = mmap(NULL, PAGE_SZ, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a != MAP_FAILED && b != MAP_FAILED) {
		(void)a[0];
		(void)b[0];
		pa = self_pme(fd, (const void *)a);
		pb = self_pme(fd, (const void *)b);
	}
	if (a != MAP_FAILED)
		munmap((void *)a, PAGE_SZ);
	if (b != MAP_FAILED)
		munmap((void *)b, PAGE_SZ);
	close(fd);
	if (!(pa & PME_PRESENT) || (pa & PME_PFN_MASK) != (pb & PME_PFN_MASK))
		return 0;
	return pa & PME_PFN_MASK;
}

static bool probe_pagemap_scan(void);

int mem_dump_init(struct mem_dump *md, struct img_out *out, struct progress *prog)
{
	memset(md, 0, sizeof(*md));
	md->out = out;
	md->dirfd = out->dirfd;
	md->prog = prog;
	md->buf_len = PAGE_BUF_SIZE;
	md->buf = mmap(NULL, (md->buf_len + PAGE_SZ) * MD_NR_BUFS, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (md->buf == MAP_FAILED) {
		int ret = -errno;

		md->buf = NULL;
		pr_err("cannot allocate %d page buffers of %zu bytes: %s", MD_NR_BUFS,
		       md->buf_len, errstr(ret));
		return ret;
	}
	for (int i = 0; i < MD_NR_BUFS; i++)
		md->bufs[i] = md->buf + i * (md->buf_len + PAGE_SZ) + BUF_SKEW;
	md->zero_pfn = find_zero_pfn();
	md->use_scan = probe_pagemap_scan();
	pr_debug("zero page PFN %#llx, PAGEMAP_SCAN %s", (unsigned long long)md->zero_pfn,
		 md->use_scan ? "used" : "not used");
	return 0;
}

void mem_dump_fini(struct mem_dump *md)
{
	if (md->buf)
		munmap(md->buf, (md->buf_len + PAGE_SZ) * MD_NR_BUFS);
	free(md->shmids);
	free(md->pids);
	for (size_t i = 0; i < md->nr_snaps; i++)
		free(md->snaps[i].pme);
	free(md->snaps);
	memset(md, 0, sizeof(*md));
}

static void unlink_image(int dirfd, enum img_kind kind, uint64_t id)
{
	char name[NAME_MAX + 1];

	if (!img_file_name(kind, id, name, sizeof(name)))
		unlinkat(dirfd, name, 0);
}

void mem_dump_remove(struct mem_dump *md)
{
	for (size_t i = 0; i < md->nr_pids; i++) {
		unlink_image(md->dirfd, IMG_MM, md->pids[i]);
		unlink_image(md->dirfd, IMG_PAGEMAP, md->pids[i]);
		unlink_image(md->dirfd, IMG_PAGES, md->pids[i]);
	}
	for (size_t i = 0; i < md->nr_shmids; i++) {
		unlink_image(md->dirfd, IMG_SHMEM, md->shmids[i] & ~SHM_SYSV_BIT);
		unlink_image(md->dirfd, IMG_SHMEM_PAGES, md->shmids[i] & ~SHM_SYSV_BIT);
	}
}

/* ---- write-behind: a thread writes filled buffers while the next fills ---- */

/* Reading a buffer (process_vm_readv, pread) and writing the previous one
 * to the image overlap; the buffers are written strictly in fill order. */
struct wbehind {
	struct mem_dump *md;
	struct img_writer *w;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	size_t len[MD_NR_BUFS];
	unsigned head;              /* next buffer to fill */
	unsigned nr_full;           /* filled, not yet written: the nr_full before head */
	bool done;
	int err;                    /* first write error; later buffers are dropped */
	uint64_t write_us, bytes;
};

static void *wb_thread(void *arg)
{
	struct wbehind *wb = arg;

	pthread_mutex_lock(&wb->lock);
	for (;;) {
		unsigned idx;
		int ret = 0;

		while (!wb->nr_full && !wb->done)
			pthread_cond_wait(&wb->cond, &wb->lock);
		if (!wb->nr_full)
			break;
		idx = (wb->head + MD_NR_BUFS - wb->nr_full) % MD_NR_BUFS;
		pthread_mutex_unlock(&wb->lock);
		if (!wb->err) {
			uint64_t t = now_us();

			ret = img_writer_raw(wb->w, wb->md->bufs[idx], wb->len[idx]);
			wb->write_us += now_us() - t;
			wb->bytes += wb->len[idx];
		}
		pthread_mutex_lock(&wb->lock);
		if (ret && !wb->err)
			wb->err = ret;
		wb->nr_full--;
		pthread_cond_broadcast(&wb->cond);
	}
	pthread_mutex_unlock(&wb->lock);
	return NULL;
}

static int wb_start(struct wbehind *wb, struct mem_dump *md, struct img_writer *w)
{
	int ret;

	memset(wb, 0, sizeof(*wb));
	wb->md = md;
	wb->w = w;
	pthread_mutex_init(&wb->lock, NULL);
	pthread_cond_init(&wb->cond, NULL);
	ret = -pthread_create(&wb->thread, NULL, wb_thread, wb);
	if (ret) {
		pr_err("%s: cannot start the image writer thread: %s", w->name, errstr(ret));
		pthread_cond_destroy(&wb->cond);
		pthread_mutex_destroy(&wb->lock);
	}
	return ret;
}

/* The buffer to fill next: waits until the writer has freed one. */
static uint8_t *wb_next(struct wbehind *wb)
{
	pthread_mutex_lock(&wb->lock);
	while (wb->nr_full == MD_NR_BUFS)
		pthread_cond_wait(&wb->cond, &wb->lock);
	pthread_mutex_unlock(&wb->lock);
	return wb->md->bufs[wb->head];
}

/* Queue the buffer wb_next() returned, filled with len bytes. */
static int wb_submit(struct wbehind *wb, size_t len)
{
	int err;

	pthread_mutex_lock(&wb->lock);
	wb->len[wb->head] = len;
	wb->head = (wb->head + 1) % MD_NR_BUFS;
	wb->nr_full++;
	err = wb->err;
	pthread_cond_broadcast(&wb->cond);
	pthread_mutex_unlock(&wb->lock);
	/* Queued is as good as written for a progress line: at most
	 * MD_NR_BUFS buffers ahead of the disk. */
	progress_bytes(wb->md->prog, len);
	return err;
}

/* Write what is queued, stop the thread; the first write error, if any. */
static int wb_finish(struct wbehind *wb)
{
	pthread_mutex_lock(&wb->lock);
	wb->done = true;
	pthread_cond_broadcast(&wb->cond);
	pthread_mutex_unlock(&wb->lock);
	pthread_join(wb->thread, NULL);
	pthread_cond_destroy(&wb->cond);
	pthread_mutex_destroy(&wb->lock);
	wb->md->stats.write_us += wb->write_us;
	wb->md->stats.pages_written += wb->bytes / PAGE_SZ;
	return wb->err;
}

/* ---- page contents: batched reads, written in order ---- */

/* Ranges of the task's memory queued for one process_vm_readv() into a
 * buffer, which then goes to the write-behind thread. */
struct page_io {
	struct mem_dump *md;
	pid_t pid;
	int mem_fd;                 /* /proc/PID/mem, opened when first needed */
	struct wbehind *wb;
	uint8_t *cur;               /* buffer being filled, NULL if none */
	size_t used;
	struct iovec riov[IOV_MAX];
	int nr;
};

static int io_flush(struct page_io *io)
{
	struct iovec local = { io->cur, io->used };
	uint64_t t;
	ssize_t n;
	int ret;

	if (!io->used)
		return 0;
	t = now_us();
	n = process_vm_readv(io->pid, &local, 1, io->riov, io->nr, 0);
	io->md->stats.dump_us += now_us() - t;
	if (n < 0 || (size_t)n != io->used) {
		/* Frozen and present (or swapped) pages cannot vanish. */
		ret = n < 0 ? -errno : -EFAULT;
		pr_err("task %d: cannot read memory at %p (%d ranges, %zu bytes, got %zd): %s",
		       io->pid, io->riov[0].iov_base, io->nr, io->used, n, errstr(ret));
		return ret;
	}
	ret = wb_submit(io->wb, io->used);
	io->cur = NULL;
	io->used = 0;
	io->nr = 0;
	return ret;
}

/* Memory without PROT_READ: process_vm_readv() refuses it, /proc/PID/mem
 * reads it (FOLL_FORCE). */
static int io_read_forced(struct page_io *io, uint64_t addr, uint64_t len)
{
	char path[64];
	int ret;

	ret = io_flush(io);
	if (ret)
		return ret;
	if (io->mem_fd < 0) {
		snprintf(path, sizeof(path), "/proc/%d/mem", io->pid);
		io->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (io->mem_fd < 0) {
			ret = -errno;
			pr_err("task %d: cannot open %s: %s", io->pid, path, errstr(ret));
			return ret;
		}
	}
	while (len) {
		size_t n = len < io->md->buf_len ? len : io->md->buf_len;
		uint8_t *buf = wb_next(io->wb);
		uint64_t t = now_us();
		ssize_t r = pread(io->mem_fd, buf, n, addr);

		io->md->stats.dump_us += now_us() - t;
		if (r < 0 || (size_t)r != n) {
			ret = r < 0 ? -errno : -EFAULT;
			pr_err("task %d: cannot read memory at %#llx (%zu bytes) through /proc/%d/mem: %s",
			       io->pid, (unsigned long long)addr, n, io->pid, errstr(ret));
			return ret;
		}
		ret = wb_submit(io->wb, n);
		if (ret)
			return ret;
		addr += n;
		len -= n;
	}
	return 0;
}

static int io_add(struct page_io *io, uint64_t addr, uint64_t len, bool readable)
{
	int ret;

	if (!readable)
		return io_read_forced(io, addr, len);
	while (len) {
		size_t room = io->md->buf_len - io->used;
		size_t n = len < room ? len : room;
		struct iovec *last = io->nr ? &io->riov[io->nr - 1] : NULL;

		if (!io->cur)
			io->cur = wb_next(io->wb);
		if (last && (uintptr_t)last->iov_base + last->iov_len == addr) {
			last->iov_len += n;
		} else {
			io->riov[io->nr].iov_base = (void *)(uintptr_t)addr;
			io->riov[io->nr].iov_len = n;
			io->nr++;
		}
		io->used += n;
		addr += n;
		len -= n;
		if (io->used == io->md->buf_len || io->nr == IOV_MAX) {
			ret = io_flush(io);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* ---- private pages ---- */

struct run {
	uint64_t start;
	uint64_t nr;
};

static int emit_run(struct page_io *io, struct img_writer *pm, struct run *r, bool readable)
{
	PagemapEntry pe = PAGEMAP_ENTRY__INIT;
	uint64_t t;
	int ret;

	if (!r->nr)
		return 0;
	pe.vaddr = r->start;
	pe.nr_pages = r->nr;
	t = now_us();
	ret = img_writer_put(pm, &pe.base);
	io->md->stats.write_us += now_us() - t;
	if (!ret)
		ret = io_add(io, r->start, r->nr * PAGE_SZ, readable);
	r->nr = 0;
	return ret;
}

/* Append the pair start, end to a repeated field of VmaEntry. */
static int add_pair(uint64_t **arr, size_t *n, uint64_t start, uint64_t end)
{
	uint64_t *g = realloc(*arr, (*n + 2) * sizeof(*g));

	if (!g)
		return -ENOMEM;
	g[(*n)++] = start;
	g[(*n)++] = end;
	*arr = g;
	return 0;
}

/* Append [start, end) to the guard ranges of e. */
static int add_guard(VmaEntry *e, uint64_t start, uint64_t end)
{
	return add_pair(&e->guards, &e->n_guards, start, end);
}

/* Without PAGEMAP_SCAN: read the VMA's pagemap entries in big chunks and
 * pick the pages with pme_wanted(). */
static int scan_vma_read(struct page_io *io, struct img_writer *pm, int pm_fd,
			 uint64_t *pme, const struct vma *v, VmaEntry *e)
{
	bool readable = v->prot & PROT_READ;
	struct run r = { 0 }, guard = { 0 };
	uint64_t addr = v->start;
	int ret;

	while (addr < v->end) {
		uint64_t n = (v->end - addr) / PAGE_SZ;
		uint64_t t = now_us();
		ssize_t got;

		if (n > PM_CHUNK)
			n = PM_CHUNK;
		got = pread(pm_fd, pme, n * sizeof(*pme), addr / PAGE_SZ * sizeof(*pme));
		io->md->stats.dump_us += now_us() - t;
		if (got < 0 || (size_t)got != n * sizeof(*pme)) {
			ret = got < 0 ? -errno : -EIO;
			pr_err("task %d: cannot read /proc/%d/pagemap at %#llx: %s",
			       io->pid, io->pid, (unsigned long long)addr, errstr(ret));
			return ret;
		}
		io->md->stats.pages_scanned += n;
		for (uint64_t i = 0; i < n; i++, addr += PAGE_SZ) {
			if (pme[i] & PME_GUARD) {
				if (!guard.nr)
					guard.start = addr;
				guard.nr++;
			} else if (guard.nr) {
				ret = add_guard(e, guard.start, addr);
				if (ret)
					return ret;
				guard.nr = 0;
			}
			if (!pme_wanted(pme[i], io->md->zero_pfn)) {
				ret = emit_run(io, pm, &r, readable);
				if (ret)
					return ret;
				continue;
			}
			/* nr_pages is 32-bit in the image. */
			if (r.nr == UINT32_MAX) {
				ret = emit_run(io, pm, &r, readable);
				if (ret)
					return ret;
			}
			if (!r.nr)
				r.start = addr;
			r.nr++;
		}
	}
	if (guard.nr) {
		ret = add_guard(e, guard.start, addr);
		if (ret)
			return ret;
	}
	return emit_run(io, pm, &r, readable);
}

/* ---- PAGEMAP_SCAN: the kernel picks the pages ---- */

/* The ioctl (Linux 6.7; PAGE_IS_GUARD since 6.15) returns the matching
 * pages as ranges, so a VMA costs what it holds, not its size: a sparse
 * 64 GiB heap is one page-table walk instead of 128 MiB of pagemap. Its
 * categories are those pme_wanted() decides on. Not in older uapi headers,
 * hence the local copies. */
struct mc_page_region {
	uint64_t start, end, categories;
};

struct mc_pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};

#define MC_PAGEMAP_SCAN      _IOWR('f', 16, struct mc_pm_scan_arg)
#define MC_PAGE_IS_FILE      (1 << 2)
#define MC_PAGE_IS_PRESENT   (1 << 3)
#define MC_PAGE_IS_SWAPPED   (1 << 4)
#define MC_PAGE_IS_PFNZERO   (1 << 5)
#define MC_PAGE_IS_GUARD     (1 << 8)
#define SCAN_VEC             512

/* Present or swapped, and neither file (nor migrating file) page, zero
 * page, nor guard marker (which counts as swapped). */
#define SCAN_NOT   (MC_PAGE_IS_FILE | MC_PAGE_IS_PFNZERO | MC_PAGE_IS_GUARD)
#define SCAN_ANYOF (MC_PAGE_IS_PRESENT | MC_PAGE_IS_SWAPPED)

/* Ranges of [start, end) that match; *nr of them in vec, and *walk_end
 * where the kernel stopped (short of end when vec is full). */
static int pm_scan(int pm_fd, uint64_t start, uint64_t end, bool guards,
		   struct mc_page_region *vec, size_t *nr, uint64_t *walk_end)
{
	struct mc_pm_scan_arg a = {
		.size = sizeof(a), .start = start, .end = end,
		.vec = (uintptr_t)vec, .vec_len = SCAN_VEC,
	};
	long n;

	if (guards) {
		a.category_mask = MC_PAGE_IS_GUARD;
		a.return_mask = MC_PAGE_IS_GUARD;
	} else {
		a.category_inverted = a.category_mask = SCAN_NOT;
		a.category_anyof_mask = SCAN_ANYOF;
		/* Nothing returned: adjacent matches merge into one range. */
		a.return_mask = 0;
	}
	n = ioctl(pm_fd, MC_PAGEMAP_SCAN, &a);
	if (n < 0)
		return -errno;
	*nr = n;
	*walk_end = a.walk_end;
	return 0;
}

static bool probe_pagemap_scan(void)
{
	struct mc_page_region vec[SCAN_VEC];
	uint64_t walk_end;
	size_t nr;
	int fd, ret;

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ret = pm_scan(fd, (uintptr_t)vec & ~(PAGE_SZ - 1),
		      ((uintptr_t)vec & ~(PAGE_SZ - 1)) + PAGE_SZ, false, vec, &nr, &walk_end);
	if (!ret)
		ret = pm_scan(fd, (uintptr_t)vec & ~(PAGE_SZ - 1),
			      ((uintptr_t)vec & ~(PAGE_SZ - 1)) + PAGE_SZ, true, vec, &nr, &walk_end);
	close(fd);
	if (ret)
		pr_info("PAGEMAP_SCAN with PAGE_IS_GUARD unavailable (%s): reading pagemap instead",
			errstr(ret));
	return !ret;
}

static int scan_vma_ioctl(struct page_io *io, struct img_writer *pm, int pm_fd,
			  const struct vma *v, VmaEntry *e)
{
	struct mc_page_region vec[SCAN_VEC];
	bool readable = v->prot & PROT_READ;
	struct run r = { 0 };
	uint64_t addr, walk_end, t;
	size_t nr;
	int ret, pass;

	/* Pass 0: the pages; pass 1: guard ranges, if the VMA may have any. */
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1 && !(v->vmflags & VMF_GU))
			break;
		for (addr = v->start; addr < v->end; addr = walk_end) {
			t = now_us();
			ret = pm_scan(pm_fd, addr, v->end, pass, vec, &nr, &walk_end);
			io->md->stats.dump_us += now_us() - t;
			if (!ret && (walk_end <= addr || walk_end > v->end))
				ret = -EIO;
			if (ret) {
				pr_err("task %d: PAGEMAP_SCAN of /proc/%d/pagemap at %#llx: %s",
				       io->pid, io->pid, (unsigned long long)addr, errstr(ret));
				return ret;
			}
			for (size_t i = 0; i < nr; i++) {
				uint64_t s = vec[i].start, n = (vec[i].end - s) / PAGE_SZ;

				if (pass == 1) {
					ret = add_guard(e, s, vec[i].end);
					if (ret)
						return ret;
					continue;
				}
				/* Ranges split where a full vec ended join again;
				 * nr_pages is 32-bit in the image. */
				if (r.nr && (r.start + r.nr * PAGE_SZ != s || r.nr + n > UINT32_MAX)) {
					ret = emit_run(io, pm, &r, readable);
					if (ret)
						return ret;
				}
				while (n > UINT32_MAX) {
					r.start = s;
					r.nr = UINT32_MAX;
					ret = emit_run(io, pm, &r, readable);
					if (ret)
						return ret;
					s += (uint64_t)UINT32_MAX * PAGE_SZ;
					n -= UINT32_MAX;
				}
				if (!r.nr)
					r.start = s;
				r.nr += n;
			}
		}
	}
	io->md->stats.pages_scanned += (v->end - v->start) / PAGE_SZ;
	return emit_run(io, pm, &r, readable);
}

static int dump_private_pages(struct mem_dump *md, pid_t pid, const struct vma_list *vl,
			      VmaEntry **vmas)
{
	struct img_writer pm, pg;
	bool pm_open = false, pg_open = false, wb_on = false;
	struct wbehind wb;
	struct page_io *io = NULL;
	uint64_t *pme = NULL;
	char path[64];
	int pm_fd = -1, ret, wret;
	uint64_t t;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	pm_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (pm_fd < 0) {
		ret = -errno;
		pr_err("task %d: cannot open %s: %s", pid, path, errstr(ret));
		goto out;
	}
	pme = malloc(PM_CHUNK * sizeof(*pme));
	io = calloc(1, sizeof(*io));
	if (!pme || !io) {
		ret = -ENOMEM;
		pr_err("task %d: cannot allocate pagemap buffers: %s", pid, errstr(ret));
		goto out;
	}
	ret = img_writer_open(md->out, IMG_PAGEMAP, pid, &pm);
	if (ret)
		goto out;
	pm_open = true;
	ret = img_writer_open(md->out, IMG_PAGES, pid, &pg);
	if (ret)
		goto out;
	pg_open = true;
	ret = wb_start(&wb, md, &pg);
	if (ret)
		goto out;
	wb_on = true;
	io->md = md;
	io->pid = pid;
	io->mem_fd = -1;
	io->wb = &wb;

	for (size_t i = 0; i < vl->nr; i++) {
		if (!vma_may_have_pages(&vl->v[i]))
			continue;
		if (md->use_scan)
			ret = scan_vma_ioctl(io, &pm, pm_fd, &vl->v[i], vmas[i]);
		else
			ret = scan_vma_read(io, &pm, pm_fd, pme, &vl->v[i], vmas[i]);
		if (ret)
			goto out;
	}
	ret = io_flush(io);
	wret = wb_finish(&wb);
	wb_on = false;
	if (!ret)
		ret = wret;
	if (ret)
		goto out;
	t = now_us();
	ret = img_writer_commit(&pm);
	pm_open = false;
	if (!ret)
		ret = img_writer_commit(&pg);
	else
		img_writer_abort(&pg);
	pg_open = false;
	md->stats.write_us += now_us() - t;
out:
	if (wb_on)
		wb_finish(&wb);
	if (pm_open)
		img_writer_abort(&pm);
	if (pg_open)
		img_writer_abort(&pg);
	if (io && io->mem_fd >= 0)
		close(io->mem_fd);
	if (pm_fd >= 0)
		close(pm_fd);
	free(io);
	free(pme);
	return ret;
}

/* ---- pages still shared copy-on-write with the parent ----
 *
 * Reading a page with process_vm_readv() pins it, and a read-only pin of
 * an anonymous page shared copy-on-write makes the kernel unshare it: the
 * reader gets a copy. So once a parent's pages are dumped its pagemap no
 * longer shows what it shared; each task's private anonymous pagemap is
 * kept from before its pages are read, and a child compares its own
 * (still untouched) pagemap with its parent's kept one. */

static int read_pagemap(int fd, pid_t pid, uint64_t start, uint64_t *pme, uint64_t n)
{
	ssize_t got = pread(fd, pme, n * sizeof(*pme), start / PAGE_SZ * sizeof(*pme));
	int ret;

	if (got == (ssize_t)(n * sizeof(*pme)))
		return 0;
	ret = got < 0 ? -errno : -EIO;
	pr_err("task %d: cannot read /proc/%d/pagemap at %#llx: %s", pid, pid,
	       (unsigned long long)start, errstr(ret));
	return ret;
}

static const struct cow_snap *cow_snap_find(const struct mem_dump *md, pid_t pid,
					    const struct vma *v)
{
	for (size_t i = 0; i < md->nr_snaps; i++)
		if (md->snaps[i].pid == pid && md->snaps[i].start == v->start &&
		    md->snaps[i].end == v->end)
			return &md->snaps[i];
	return NULL;
}

static int cow_vma(const struct mem_dump *md, const uint64_t *child, const struct cow_snap *ps,
		   VmaEntry *e)
{
	struct run r = { 0 };
	uint64_t n = (ps->end - ps->start) / PAGE_SZ, addr = ps->start;
	int ret;

	for (uint64_t i = 0; i < n; i++, addr += PAGE_SZ) {
		if (pme_cow_shared(child[i], ps->pme[i], md->zero_pfn)) {
			if (!r.nr)
				r.start = addr;
			r.nr++;
			continue;
		}
		if (r.nr) {
			ret = add_pair(&e->cow_parent, &e->n_cow_parent, r.start, addr);
			if (ret)
				return ret;
			r.nr = 0;
		}
	}
	return r.nr ? add_pair(&e->cow_parent, &e->n_cow_parent, r.start, addr) : 0;
}

/* Before any page of pid is read: record in its VMAs the pages it still
 * shares with its parent ppid (0: none in the tree), and keep its own
 * private anonymous pagemap for its children. Every task is frozen. */
static int find_cow(struct mem_dump *md, pid_t pid, pid_t ppid, const struct vma_list *vl,
		    VmaEntry **vmas)
{
	char path[64];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pr_err("task %d: cannot open %s: %s", pid, path, errstr(ret));
		return ret;
	}
	for (size_t i = 0; i < vl->nr && !ret; i++) {
		const struct vma *v = &vl->v[i];
		uint64_t n = (v->end - v->start) / PAGE_SZ;
		const struct cow_snap *ps;
		struct cow_snap *s;

		if (v->kind != VMA_KIND__VMA_ANON_PRIVATE || !v->anon_kb)
			continue;
		if (md->nr_snaps == md->cap_snaps) {
			size_t cap = md->cap_snaps ? md->cap_snaps * 2 : 16;

			s = realloc(md->snaps, cap * sizeof(*s));
			if (!s) {
				ret = -ENOMEM;
				break;
			}
			md->snaps = s;
			md->cap_snaps = cap;
		}
		s = &md->snaps[md->nr_snaps];
		*s = (struct cow_snap){ pid, v->start, v->end, malloc(n * sizeof(uint64_t)) };
		if (!s->pme) {
			ret = -ENOMEM;
			break;
		}
		ret = read_pagemap(fd, pid, v->start, s->pme, n);
		if (ret) {
			free(s->pme);
			break;
		}
		md->nr_snaps++;
		ps = ppid > 0 ? cow_snap_find(md, ppid, v) : NULL;
		if (ps)
			ret = cow_vma(md, s->pme, ps, vmas[i]);
	}
	close(fd);
	if (ret == -ENOMEM)
		pr_err("task %d: out of memory comparing its pages with its parent's", pid);
	return ret;
}

/* ---- shared anonymous memory ---- */

static uint64_t shm_key(const struct vma *v)
{
	return v->ino | (v->path && !strncmp(v->path, "/SYSV", 5) ? SHM_SYSV_BIT : 0);
}

/* 1: already dumped, 0: not yet, -ENOTSUP: another object has its id. */
static int shmid_done(const struct mem_dump *md, pid_t pid, const struct vma *v)
{
	uint64_t key = shm_key(v);

	for (size_t i = 0; i < md->nr_shmids; i++) {
		if (md->shmids[i] == key)
			return 1;
		if ((md->shmids[i] & ~SHM_SYSV_BIT) == v->ino) {
			pr_err("task %d: shared memory %s at %llx has id %llu, as another object "
			       "already dumped: their images would collide", pid, v->path,
			       (unsigned long long)v->start, (unsigned long long)v->ino);
			return -ENOTSUP;
		}
	}
	return 0;
}

/* Whole pages from off; the object may end inside the last one (a SysV
 * segment of any size), whose tail is then zeroes, as in memory. */
static int write_shmem_range(struct mem_dump *md, int fd, struct wbehind *wb,
			     const char *what, off_t off, off_t len, off_t size)
{
	while (len > 0) {
		size_t n = (size_t)len < md->buf_len ? (size_t)len : md->buf_len;
		size_t want = off + (off_t)n > size ? (size_t)(size - off) : n;
		uint8_t *buf = wb_next(wb);
		uint64_t t = now_us();
		ssize_t r = pread(fd, buf, want, off);
		int ret;

		md->stats.dump_us += now_us() - t;
		memset(buf + want, 0, n - want);
		if (r < 0 || (size_t)r != want) {
			ret = r < 0 ? -errno : -EIO;
			pr_err("%s: cannot read at offset %lld: %s", what, (long long)off, errstr(ret));
			return ret;
		}
		ret = wb_submit(wb, n);
		if (ret)
			return ret;
		off += n;
		len -= n;
	}
	return 0;
}

/* The populated pages of the object behind v, found with SEEK_DATA and
 * SEEK_HOLE (swapped-out pages count as data) and read with pread(), which
 * neither faults pages in nor needs the mapping to be readable. */
static int dump_shmem(struct mem_dump *md, pid_t pid, const struct vma *v)
{
	struct img_writer pm, pg;
	bool pm_open = false, pg_open = false, wb_on = false;
	struct wbehind wb;
	char path[96];
	struct stat st;
	off_t data, hole = 0;
	int fd, ret, wret;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", pid,
		 (unsigned long long)v->start, (unsigned long long)v->end);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		ret = -errno;
		pr_err("task %d: cannot open shared memory %llu through %s: %s",
		       pid, (unsigned long long)v->ino, path, errstr(ret));
		goto out;
	}
	ret = add_u64(&md->shmids, &md->nr_shmids, &md->cap_shmids, shm_key(v));
	if (ret)
		goto out;
	ret = img_writer_open(md->out, IMG_SHMEM, v->ino, &pm);
	if (ret)
		goto out;
	pm_open = true;
	ret = img_writer_open(md->out, IMG_SHMEM_PAGES, v->ino, &pg);
	if (ret)
		goto out;
	pg_open = true;
	ret = wb_start(&wb, md, &pg);
	if (ret)
		goto out;
	wb_on = true;
	md->stats.pages_scanned += (st.st_size + PAGE_SZ - 1) / PAGE_SZ;

	while (hole < st.st_size) {
		PagemapEntry pe = PAGEMAP_ENTRY__INIT;

		data = lseek(fd, hole, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break;
		if (data >= 0)
			hole = lseek(fd, data, SEEK_HOLE);
		if (data < 0 || hole < 0) {
			ret = -errno;
			pr_err("task %d: cannot seek in shared memory %llu (%s): %s",
			       pid, (unsigned long long)v->ino, path, errstr(ret));
			goto out;
		}
		if (hole > st.st_size)
			hole = st.st_size;
		/* shmem tracks data in whole pages. */
		data &= ~(off_t)(PAGE_SZ - 1);
		hole = (hole + PAGE_SZ - 1) & ~(off_t)(PAGE_SZ - 1);
		if (hole <= data)
			break;
		pe.vaddr = data;
		pe.nr_pages = (hole - data) / PAGE_SZ;
		ret = img_writer_put(&pm, &pe.base);
		if (!ret)
			ret = write_shmem_range(md, fd, &wb, path, data, hole - data, st.st_size);
		if (ret)
			goto out;
	}
	wret = wb_finish(&wb);
	wb_on = false;
	if (wret) {
		ret = wret;
		goto out;
	}
	ret = img_writer_commit(&pm);
	pm_open = false;
	if (!ret)
		ret = img_writer_commit(&pg);
	else
		img_writer_abort(&pg);
	pg_open = false;
out:
	if (wb_on)
		wb_finish(&wb);
	if (pm_open)
		img_writer_abort(&pm);
	if (pg_open)
		img_writer_abort(&pg);
	if (fd >= 0)
		close(fd);
	return ret;
}

/* ---- mm-<pid>.img ---- */

/* State only the task itself can report. */
static int remote_mm_state(pid_t pid, pid_t tid, MmEntry *mm)
{
	struct remote r;
	unsigned long ip;
	long brk, dumpable, thp;
	int ret, end;

	ret = remote_find_syscall(pid, &ip);
	if (ret) {
		if (ret != -ENOENT)  /* -ENOENT is logged by remote_find_syscall() */
			pr_err("task %d: cannot find a syscall instruction: %s", pid, errstr(ret));
		return ret;
	}
	ret = remote_start(&r, pid, tid, ip);
	if (ret)
		return ret;
	brk = remote_syscall(&r, __NR_brk, 0, 0, 0, 0, 0, 0);
	if (brk < 0 && brk > -4096) {
		ret = brk;
		goto end;
	}
	dumpable = remote_syscall(&r, __NR_prctl, PR_GET_DUMPABLE, 0, 0, 0, 0, 0);
	if (dumpable < 0) {
		ret = dumpable;
		goto end;
	}
	thp = remote_syscall(&r, __NR_prctl, PR_GET_THP_DISABLE, 0, 0, 0, 0, 0);
	if (thp < 0) {
		ret = thp;
		goto end;
	}
	mm->has_mm_brk = 1;
	mm->mm_brk = brk;
	mm->has_dumpable = 1;
	mm->dumpable = dumpable;
	mm->has_thp_disabled = 1;
	mm->thp_disabled = thp & 1;
	mm->has_thp_disable_flags = 1;
	mm->thp_disable_flags = thp;
end:
	if (ret)
		pr_err("task %d: remote brk/prctl query failed: %s", pid, errstr(ret));
	/* Always, so that the task goes on exactly as it was. */
	end = remote_end(&r);
	return ret ? ret : end;
}

static int read_auxv(pid_t pid, MmEntry *mm)
{
	_cleanup_free_ char *buf = NULL;
	char path[64];
	size_t len;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/auxv", pid);
	ret = read_file(path, 1 << 16, &buf, &len);
	if (ret) {
		pr_err("task %d: cannot read %s: %s", pid, path, errstr(ret));
		return ret;
	}
	mm->n_auxv = len / sizeof(uint64_t);
	mm->auxv = calloc(mm->n_auxv ? mm->n_auxv : 1, sizeof(uint64_t));
	if (!mm->auxv)
		return -ENOMEM;
	memcpy(mm->auxv, buf, mm->n_auxv * sizeof(uint64_t));
	return 0;
}

static int read_link(const char *path, char **out)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	*out = strdup(buf);
	return *out ? 0 : -ENOMEM;
}

/* A mapped file as restore will find it: the path, identity, size and
 * mtime of the file itself (map_files), so a changed file is refused. */
static int fill_file_vma(pid_t pid, const struct vma *v, VmaEntry *e)
{
	char path[96];
	struct stat st;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", pid,
		 (unsigned long long)v->start, (unsigned long long)v->end);
	if (stat(path, &st) < 0) {
		ret = -errno;
		goto err;
	}
	ret = read_link(path, &e->path);
	if (ret)
		goto err;
	e->has_dev = e->has_ino = e->has_file_size = e->has_file_mtime = 1;
	e->dev = st.st_dev;
	e->ino = st.st_ino;
	e->file_size = st.st_size;
	e->file_mtime = st.st_mtim.tv_sec * 1000000000ULL + st.st_mtim.tv_nsec;
	return 0;
err:
	pr_err("task %d: cannot stat the file mapped at %llx-%llx (%s): %s", pid,
	       (unsigned long long)v->start, (unsigned long long)v->end,
	       v->path ? v->path : "?", errstr(ret));
	return ret;
}

static int fill_vma(struct mem_dump *md, pid_t pid, const struct vma *v, VmaEntry *e)
{
	int ret;

	e->start = v->start;
	e->end = v->end;
	e->kind = v->kind;
	e->prot = v->prot;
	e->flags = v->flags;
	e->has_pgoff = 1;
	e->pgoff = v->pgoff;
	if (v->madv) {
		e->has_madv = 1;
		e->madv = v->madv;
	}
	e->has_mlock = v->mlock != VMA_MLOCK_NONE;
	e->mlock = v->mlock;
	e->has_sealed = e->sealed = v->sealed;
	e->has_maywrite = e->maywrite = v->maywrite;
	switch (v->kind) {
	case VMA_KIND__VMA_FILE_PRIVATE:
	case VMA_KIND__VMA_FILE_SHARED:
		return fill_file_vma(pid, v, e);
	case VMA_KIND__VMA_ANON_SHARED:
		e->has_dev = e->has_ino = 1;
		e->dev = makedev(v->dev_major, v->dev_minor);
		e->ino = v->ino;
		ret = shmid_done(md, pid, v);
		if (ret < 0)
			return ret;
		if (!ret) {
			ret = dump_shmem(md, pid, v);
			if (ret)
				return ret;
		}
		break;
	default:
		break;
	}
	if (v->path) {
		e->path = strdup(v->path);
		if (!e->path)
			return -ENOMEM;
	}
	return 0;
}

static void free_mm(MmEntry *mm)
{
	for (size_t i = 0; i < mm->n_vmas; i++) {
		if (mm->vmas[i]) {
			free(mm->vmas[i]->path);
			free(mm->vmas[i]->guards);
			free(mm->vmas[i]->cow_parent);
		}
		free(mm->vmas[i]);
	}
	free(mm->vmas);
	free(mm->auxv);
	free(mm->exe_path);
}

static int read_smaps(pid_t pid, struct vma_list *vl)
{
	_cleanup_free_ char *buf = NULL;
	char path[64];
	size_t line = 0;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	ret = read_file(path, SMAPS_MAX, &buf, NULL);
	if (ret) {
		pr_err("task %d: cannot read %s: %s", pid, path, errstr(ret));
		return ret;
	}
	ret = smaps_parse(buf, vl, &line);
	if (ret)
		pr_err("task %d: cannot parse %s line %zu: %s", pid, path, line, errstr(ret));
	return ret;
}

int mem_dump_check(pid_t pid, struct refusals *r)
{
	struct vma_list vl = { 0 };
	const char *why;
	int ret;

	ret = read_smaps(pid, &vl);
	for (size_t i = 0; i < vl.nr && !ret; i++) {
		const struct vma *v = &vl.v[i];

		if (vma_classify(&vl.v[i], &why))
			refuse(r, "task %d: mapping %llx-%llx %s %s: %s", pid,
			       (unsigned long long)v->start, (unsigned long long)v->end,
			       v->perms, v->path ? v->path : "", why);
		/* The segment lives in the IPC namespace, not in the task: a
		 * copy of its pages would no longer be the segment others see. */
		else if (v->path && !strncmp(v->path, "/SYSV", 5))
			refuse(r, "task %d: mapping %llx-%llx is SysV shared memory (shmat, %s); "
			       "minicr does not restore SysV segments", pid,
			       (unsigned long long)v->start, (unsigned long long)v->end, v->path);
	}
	vma_list_free(&vl);
	return ret;
}

/* mem_dump_check() has refused every VMA vma_classify() rejects. */
static int read_vmas(pid_t pid, struct vma_list *vl)
{
	const char *why;
	int ret;

	ret = read_smaps(pid, vl);
	for (size_t i = 0; i < vl->nr && !ret; i++)
		ret = vma_classify(&vl->v[i], &why);
	if (ret)
		vma_list_free(vl);
	return ret;
}

int mem_dump_task(struct mem_dump *md, pid_t pid, pid_t tid, pid_t ppid)
{
	MmEntry mm = MM_ENTRY__INIT;
	struct vma_list vl = { 0 };
	struct proc_stat st;
	char path[64];
	uint64_t t = now_us(), t0 = t, written = md->stats.pages_written;
	int ret;

	ret = pid_array_add(&md->pids, &md->nr_pids, &md->cap_pids, pid);
	if (ret)
		return ret;

	ret = read_vmas(pid, &vl);
	md->stats.dump_us += now_us() - t;
	if (ret)
		return ret;
	ret = proc_stat_read(pid, 0, &st);
	if (ret) {
		pr_err("task %d: cannot read /proc/%d/stat: %s", pid, pid, errstr(ret));
		goto out;
	}
	mm.has_mm_start_code = mm.has_mm_end_code = mm.has_mm_start_data = 1;
	mm.has_mm_end_data = mm.has_mm_start_stack = mm.has_mm_start_brk = 1;
	mm.has_mm_arg_start = mm.has_mm_arg_end = mm.has_mm_env_start = mm.has_mm_env_end = 1;
	mm.mm_start_code = st.start_code;
	mm.mm_end_code = st.end_code;
	mm.mm_start_data = st.start_data;
	mm.mm_end_data = st.end_data;
	mm.mm_start_stack = st.start_stack;
	mm.mm_start_brk = st.start_brk;
	mm.mm_arg_start = st.arg_start;
	mm.mm_arg_end = st.arg_end;
	mm.mm_env_start = st.env_start;
	mm.mm_env_end = st.env_end;

	ret = remote_mm_state(pid, tid, &mm);
	if (ret)
		goto out;
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	ret = read_link(path, &mm.exe_path);
	if (ret) {
		pr_err("task %d: cannot read %s: %s", pid, path, errstr(ret));
		goto out;
	}
	ret = read_auxv(pid, &mm);
	if (ret)
		goto out;

	mm.vmas = calloc(vl.nr ? vl.nr : 1, sizeof(*mm.vmas));
	if (!mm.vmas) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < vl.nr; i++) {
		VmaEntry *e = malloc(sizeof(*e));

		if (!e) {
			ret = -ENOMEM;
			goto out;
		}
		vma_entry__init(e);
		mm.vmas[mm.n_vmas++] = e;
		ret = fill_vma(md, pid, &vl.v[i], e);
		if (ret)
			goto out;
	}
	ret = find_cow(md, pid, ppid, &vl, mm.vmas);
	if (ret)
		goto out;
	/* Pages first: the scan finds the guard ranges mm-<pid>.img records. */
	ret = dump_private_pages(md, pid, &vl, mm.vmas);
	if (!ret)
		ret = img_write_one(md->out, IMG_MM, pid, &mm.base);
	if (!ret)
		pr_debug("task %d: %zu VMAs, %llu pages written in %llu us", pid, vl.nr,
			 (unsigned long long)(md->stats.pages_written - written),
			 (unsigned long long)(now_us() - t0));
out:
	if (ret == -ENOMEM)
		pr_err("task %d: out of memory dumping its memory", pid);
	free_mm(&mm);
	vma_list_free(&vl);
	return ret;
}
