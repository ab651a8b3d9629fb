/* Memory restore: swap the address space of a created task (a fork of
 * minicr, every thread seized and stopped) for the recorded one, by remote
 * system calls only (src/infect.h); no code of ours runs in the task.
 *
 *  1. drop the rseq registration every thread inherited from minicr's
 *     glibc: the kernel writes to that area on return to user space and
 *     would SIGSEGV the thread (or scribble on restored memory) once
 *     minicr's memory is gone;
 *  2. map a two-page trampoline where neither the recorded nor the current
 *     layout has anything: `syscall` at its start, scratch memory after;
 *  3. unmap everything else (minicr's binary, libraries, stacks, vDSO)
 *     but the VMAs the task filled itself while the tree was built, to
 *     share them copy-on-write (src/rst_cow.h): those are not mapped nor
 *     written again below, only given the rest of their state;
 *  4. put [vvar]/[vvar_vclock]/[vdso] back at their recorded address
 *     (arch_prctl ARCH_MAP_VDSO_64);
 *  5. set the mm fields with PR_SET_MM_MAP (before any file is mapped:
 *     the kernel refuses a new exe file while the old one is mapped) and
 *     the THP state;
 *  6. map every recorded VMA at its address: anonymous, files (checked
 *     unchanged first), shared anonymous memory as a memfd of the
 *     controller (passed with SCM_RIGHTS) shared by every task that maps
 *     the same object; with its
 *     madvise state, [anon:name] and guard ranges;
 *  7. write page contents with process_vm_writev, many runs per call, then
 *     give writable-for-restore VMAs their recorded protection;
 *  8. check /proc/PID/maps against the recording, then mlock and mseal
 *     what was locked or sealed.
 * rst_mem_finish() sets the recorded dumpable state (after rst_core's
 * credentials, which reset it) and unmaps the trampoline, the task's last
 * remote call. */
#include "rst_state.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/prctl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "image.h"
#include "imgtypes.h"
#include "log.h"
#include "mm.pb-c.h"
#include "proc_maps.h"
#include "progress.h"
#include "rst_cow.h"
#include "rst_layout.h"
#include "rst_shm.h"
#include "util.h"

#define MINICR_PTRACE_GET_RSEQ_CONFIGURATION 0x420f
#define MINICR_RSEQ_FLAG_UNREGISTER          1
#define MINICR_ARCH_MAP_VDSO_64              0x2003
#define MINICR_PR_THP_DISABLE_EXCEPT_ADVISED (1UL << 1)
#define MINICR_MADV_GUARD_INSTALL            102
#define MINICR_MLOCK_ONFAULT                 1
#define MINICR_NR_mseal                      462

struct rseq_conf {              /* struct ptrace_rseq_configuration */
	uint64_t rseq_abi_pointer;
	uint32_t rseq_abi_size;
	uint32_t signature;
	uint32_t flags;
	uint32_t pad;
};

/* The trampoline: `syscall` at offset 0, the rest is scratch memory for
 * arguments passed by address. */
#define TRAMP_LEN    (2 * LAY_PAGE_SIZE)
#define SCR_MM_MAP   64         /* struct prctl_mm_map */
#define SCR_AUXV     1024       /* saved_auxv is at most 52 longs */
#define SCR_AUXV_MAX 1024
#define SCR_PATH     2048       /* one path */
/* Receiving an fd (the path area is free then): msghdr, iovec, data byte,
 * control buffer, socket address. */
#define SCR_FDP_MSG  SCR_PATH
#define SCR_FDP_IOV  (SCR_PATH + 64)
#define SCR_FDP_DATA (SCR_PATH + 96)
#define SCR_FDP_CTL  (SCR_PATH + 128)
#define SCR_FDP_ADDR (SCR_PATH + 256)
_Static_assert(SCR_MM_MAP + sizeof(struct prctl_mm_map) <= SCR_AUXV, "scratch layout");
_Static_assert(SCR_PATH + PATH_MAX <= TRAMP_LEN, "scratch layout");

/* Pages per process_vm_writev(): the kernel caps one call at MAX_RW_COUNT
 * (2 GiB - 4 KiB) and IOV_MAX remote segments; 256 MiB keeps each call
 * well below the former. */
#define WRITE_BATCH  (256ULL << 20)
#define WRITE_IOVS   1024

static uint64_t pages_restored;

uint64_t rst_mem_pages_restored(void)
{
	return pages_restored;
}

/* Shared anonymous objects, by shmid, for all tasks of this restore: each
 * becomes one object held open by minicr (shm_create()), filled once, and
 * every task that mapped it maps that object, so the memory stays shared
 * among them. */
struct shm_obj {
	uint64_t shmid;
	int fd;
	uint64_t size;              /* UINT64_MAX: sized by the files restore */
	bool memfd;                 /* "/memfd:" (SysV ids may equal its inode) */
};
static struct shm_obj *shm_objs;
static size_t nr_shm, cap_shm;

struct mem_ctx {
	struct rst_task *t;
	int dirfd;
	struct progress *prog;      /* counts the bytes of pages restored; may be NULL */
	pid_t pid;                  /* task, for ptrace and messages */
	int img_pid;                /* recorded PID, for image names */
	struct remote r;
	bool started;
	MmEntry *mm;
	struct lay_vma *lv;         /* mm->vmas as rst_layout sees them */
	bool *kept;                 /* per VMA: filled by the task (rst_cow.h) */
	size_t nr_kept;
	struct lay_run *runs;
	size_t nr_runs;
	uint64_t nr_pages;
	int pages_fd;
	uint64_t pages_size;
	unsigned long scratch;      /* tramp + offsets SCR_* */
	/* The file opened in the task for the previous VMA: libraries map
	 * several VMAs of one file in a row. */
	const char *open_path;
	int open_flags;
	long open_fd;
	/* A datagram socket of the task, bound to an abstract address, that
	 * receives memfds from minicr (SCM_RIGHTS); -1 until needed. */
	long fdpass_sock;
	struct sockaddr_un fdpass_addr;
	socklen_t fdpass_addr_len;
};

static const char *kind_name(int kind)
{
	switch (kind) {
	case VMA_KIND__VMA_ANON_PRIVATE: return "anonymous private";
	case VMA_KIND__VMA_ANON_SHARED: return "anonymous shared";
	case VMA_KIND__VMA_FILE_PRIVATE: return "file private";
	case VMA_KIND__VMA_FILE_SHARED: return "file shared";
	case VMA_KIND__VMA_VDSO: return "[vdso]";
	case VMA_KIND__VMA_VVAR: return "[vvar]";
	case VMA_KIND__VMA_VVAR_VCLOCK: return "[vvar_vclock]";
	case VMA_KIND__VMA_VSYSCALL: return "[vsyscall]";
	}
	return "unknown";
}

static long rcall(struct mem_ctx *c, long nr, unsigned long a1, unsigned long a2,
		  unsigned long a3, unsigned long a4, unsigned long a5, unsigned long a6)
{
	return remote_syscall(&c->r, nr, a1, a2, a3, a4, a5, a6);
}

static int read_maps(pid_t pid, struct lay_map **m, size_t *nr)
{
	_cleanup_free_ char *buf = NULL;
	char path[64];
	size_t line = 0;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	ret = read_file(path, 64u << 20, &buf, NULL);
	if (ret) {
		pr_err("task %d: cannot read %s: %s", pid, path, errstr(ret));
		return ret;
	}
	ret = lay_maps_parse(buf, m, nr, &line);
	if (ret)
		pr_err("task %d: %s line %zu: cannot parse: %s", pid, path, line, errstr(ret));
	return ret;
}

/* ---- 1. rseq ---- */

static int drop_rseq(struct rst_task *t)
{
	for (size_t i = 0; i < t->nr_tids; i++) {
		struct rseq_conf conf = { 0 };
		struct remote r;
		long ret;
		int ret2;

		if (ptrace(MINICR_PTRACE_GET_RSEQ_CONFIGURATION, t->tids[i], sizeof(conf), &conf) < 0) {
			ret = -errno;
			pr_err("task %d thread %d: cannot read the rseq configuration: %s",
			       t->pid, t->tids[i], errstr(ret));
			return ret;
		}
		if (!conf.rseq_abi_pointer)
			continue;
		/* rseq() acts on the calling thread: each one drops its own. */
		ret = remote_start(&r, t->pid, t->tids[i], t->sys_ip);
		if (ret)
			return ret;
		ret = remote_syscall(&r, __NR_rseq, conf.rseq_abi_pointer, conf.rseq_abi_size,
				     MINICR_RSEQ_FLAG_UNREGISTER, conf.signature, 0, 0);
		if (ret)
			pr_err("task %d thread %d: cannot unregister the inherited rseq area at 0x%llx: %s",
			       t->pid, t->tids[i], (unsigned long long)conf.rseq_abi_pointer,
			       errstr(ret));
		ret2 = remote_end(&r);
		if (ret)
			return ret;
		if (ret2)
			return ret2;
	}
	return 0;
}

/* ---- images ---- */

static int load_images(struct mem_ctx *c)
{
	struct img_reader rd = { 0 };
	char name[NAME_MAX + 1];
	ProtobufCMessage *msg = NULL;
	size_t bad, cap = 0;
	const char *why;
	int ret;

	ret = img_read_one(c->dirfd, IMG_MM, c->img_pid, &msg);
	if (ret)
		return ret;
	c->mm = (MmEntry *)msg;
	c->lv = calloc(c->mm->n_vmas ? c->mm->n_vmas : 1, sizeof(*c->lv));
	if (!c->lv)
		return -ENOMEM;
	for (size_t i = 0; i < c->mm->n_vmas; i++) {
		const VmaEntry *e = c->mm->vmas[i];

		c->lv[i] = (struct lay_vma){ .start = e->start, .end = e->end, .kind = e->kind,
					     .prot = e->prot, .flags = e->flags };
	}
	c->kept = calloc(c->mm->n_vmas ? c->mm->n_vmas : 1, sizeof(*c->kept));
	if (!c->kept)
		return -ENOMEM;
	for (size_t i = 0; i < c->mm->n_vmas; i++) {
		const VmaEntry *e = c->mm->vmas[i];

		c->kept[i] = rst_cow_eligible(e) && rst_cow_slot_has(c->t->cow, e->start, e->end);
		c->nr_kept += c->kept[i];
	}
	ret = lay_vmas_check(c->lv, c->mm->n_vmas, &bad, &why);
	if (ret) {
		pr_err("task %d: mm-%d.img: VMA %zu (%llx-%llx): %s", c->pid, c->img_pid, bad,
		       (unsigned long long)c->lv[bad].start, (unsigned long long)c->lv[bad].end, why);
		return ret;
	}

	ret = img_file_name(IMG_PAGEMAP, c->img_pid, name, sizeof(name));
	if (ret)
		return ret;
	ret = img_reader_open(c->dirfd, name, &img_types[IMG_PAGEMAP], &rd);
	if (ret)
		return ret;
	while ((ret = img_reader_next(&rd, &msg)) == 1) {
		PagemapEntry *pe = (PagemapEntry *)msg;

		if (c->nr_runs == cap) {
			struct lay_run *n;

			cap = cap ? cap * 2 : 256;
			n = realloc(c->runs, cap * sizeof(*n));
			if (!n) {
				protobuf_c_message_free_unpacked(msg, NULL);
				ret = -ENOMEM;
				goto out;
			}
			c->runs = n;
		}
		c->runs[c->nr_runs++] = (struct lay_run){ pe->vaddr, pe->nr_pages };
		protobuf_c_message_free_unpacked(msg, NULL);
	}
	if (ret < 0)
		goto out;
	ret = lay_runs_assign(c->lv, c->mm->n_vmas, c->runs, c->nr_runs, &c->nr_pages, &bad, &why);
	if (ret) {
		pr_err("task %d: %s: entry %zu (0x%llx, %llu pages): %s", c->pid, name, bad,
		       (unsigned long long)c->runs[bad].vaddr,
		       (unsigned long long)c->runs[bad].nr_pages, why);
		goto out;
	}
	ret = img_raw_open(c->dirfd, IMG_PAGES, c->img_pid, &c->pages_fd, &c->pages_size);
	if (ret)
		goto out;
	if (c->pages_size != c->nr_pages * LAY_PAGE_SIZE) {
		pr_err("task %d: pages-%d.img holds %llu bytes of pages, %s lists %llu pages",
		       c->pid, c->img_pid, (unsigned long long)c->pages_size, name,
		       (unsigned long long)c->nr_pages);
		ret = -EBADMSG;
	}
out:
	img_reader_close(&rd);
	return ret;
}

/* ---- 2. trampoline ---- */

static int read_mmap_min_addr(uint64_t *v)
{
	_cleanup_free_ char *buf = NULL;
	int ret = read_file("/proc/sys/vm/mmap_min_addr", 64, &buf, NULL);

	if (ret) {
		pr_err("cannot read /proc/sys/vm/mmap_min_addr: %s", errstr(ret));
		return ret;
	}
	*v = strtoull(buf, NULL, 10);
	if (*v < LAY_PAGE_SIZE)
		*v = LAY_PAGE_SIZE;
	return 0;
}

static int setup_tramp(struct mem_ctx *c)
{
	static const uint8_t syscall_insn[2] = { 0x0f, 0x05 };
	struct lay_map *cur = NULL;
	struct lay_range *busy = NULL;
	size_t nr_cur = 0, nr_busy = 0;
	uint64_t lo, addr;
	long m;
	int ret;

	ret = read_mmap_min_addr(&lo);
	if (ret)
		return ret;
	ret = read_maps(c->pid, &cur, &nr_cur);
	if (ret)
		return ret;
	busy = calloc(nr_cur + c->mm->n_vmas + 1, sizeof(*busy));
	if (!busy) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nr_cur; i++)
		if (cur[i].start < LAY_TASK_SIZE)
			busy[nr_busy++] = (struct lay_range){ cur[i].start, cur[i].end };
	for (size_t i = 0; i < c->mm->n_vmas; i++)
		if (c->lv[i].kind != VMA_KIND__VMA_VSYSCALL)
			busy[nr_busy++] = (struct lay_range){ c->lv[i].start, c->lv[i].end };
	ret = lay_pick_tramp(busy, nr_busy, lo, LAY_TASK_SIZE, TRAMP_LEN, &addr);
	if (ret) {
		pr_err("task %d: no room for a %llu-byte trampoline free in both the recorded and the current address space: %s",
		       c->pid, (unsigned long long)TRAMP_LEN, errstr(ret));
		goto out;
	}
	/* NOREPLACE: if the current layout changed under us, fail rather
	 * than clobber something. */
	m = rcall(c, __NR_mmap, addr, TRAMP_LEN, PROT_READ | PROT_WRITE | PROT_EXEC,
		  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (m < 0 || (uint64_t)m != addr) {
		ret = m < 0 ? (int)m : -EEXIST;
		pr_err("task %d: cannot map the trampoline at %llx-%llx: %s", c->pid,
		       (unsigned long long)addr, (unsigned long long)(addr + TRAMP_LEN), errstr(ret));
		goto out;
	}
	c->t->tramp = addr;
	c->t->tramp_len = TRAMP_LEN;
	ret = remote_write(c->pid, addr, syscall_insn, sizeof(syscall_insn));
	if (ret) {
		pr_err("task %d: cannot write the trampoline at %llx: %s", c->pid,
		       (unsigned long long)addr, errstr(ret));
		goto out;
	}
	/* From here on, every remote call (ours, rst_core's, the final
	 * munmap) goes through the trampoline: the vDSO is about to go. */
	c->r.sys_ip = addr;
	c->t->sys_ip = addr;
	c->scratch = addr;
	pr_debug("task %d: trampoline at %llx", c->pid, (unsigned long long)addr);
out:
	free(busy);
	lay_maps_free(cur, nr_cur);
	return ret;
}

/* ---- 3. unmap the rest ---- */

/* Whether addr lies in a VMA the task filled itself (rst_cow.h). */
static bool in_kept(const struct mem_ctx *c, uint64_t addr)
{
	for (size_t i = 0; c->nr_kept && i < c->mm->n_vmas; i++)
		if (c->kept[i] && addr >= c->lv[i].start && addr < c->lv[i].end)
			return true;
	return false;
}

static int unmap_range(struct mem_ctx *c, uint64_t start, uint64_t end)
{
	long m;

	if (start >= end)
		return 0;
	m = rcall(c, __NR_munmap, start, end - start, 0, 0, 0, 0);
	if (m)
		pr_err("task %d: cannot unmap %llx-%llx: %s", c->pid, (unsigned long long)start,
		       (unsigned long long)end, errstr(m));
	return m;
}

/* Everything but the trampoline and the kept VMAs (ascending, like the
 * recorded ones; the trampoline lies outside all of them). */
static int unmap_all(struct mem_ctx *c)
{
	struct lay_map *cur = NULL;
	size_t nr_cur = 0;
	uint64_t from = 0;
	bool tramp_done = false;
	int ret = 0;

	for (size_t i = 0; i <= c->mm->n_vmas && !ret; i++) {
		uint64_t s = i < c->mm->n_vmas ? c->lv[i].start : LAY_TASK_SIZE;

		if (i < c->mm->n_vmas && !c->kept[i])
			continue;
		if (!tramp_done && c->t->tramp < s) {
			ret = unmap_range(c, from, c->t->tramp);
			from = c->t->tramp + c->t->tramp_len;
			tramp_done = true;
		}
		if (!ret)
			ret = unmap_range(c, from, s);
		if (i < c->mm->n_vmas)
			from = c->lv[i].end;
	}
	if (ret)
		return ret;
	/* Nothing may survive (a sealed mapping would): the VMAs mapped next
	 * use MAP_FIXED_NOREPLACE, but a leftover could still be outside
	 * them and end up in the restored task. */
	ret = read_maps(c->pid, &cur, &nr_cur);
	if (ret)
		return ret;
	for (size_t i = 0; i < nr_cur; i++) {
		if (cur[i].start >= LAY_TASK_SIZE || cur[i].start == c->t->tramp ||
		    in_kept(c, cur[i].start))
			continue;
		pr_err("task %d: mapping %llx-%llx %s survived unmapping the address space",
		       c->pid, (unsigned long long)cur[i].start, (unsigned long long)cur[i].end,
		       cur[i].name);
		ret = -EBUSY;
		break;
	}
	lay_maps_free(cur, nr_cur);
	return ret;
}

/* ---- 4. vDSO ---- */

static int vdso_from_vmas(const struct mem_ctx *c, struct lay_vdso *v)
{
	memset(v, 0, sizeof(*v));
	for (size_t i = 0; i < c->mm->n_vmas; i++) {
		int k;

		switch (c->lv[i].kind) {
		case VMA_KIND__VMA_VVAR: k = LAY_VVAR; break;
		case VMA_KIND__VMA_VVAR_VCLOCK: k = LAY_VVAR_VCLOCK; break;
		case VMA_KIND__VMA_VDSO: k = LAY_VDSO; break;
		default: continue;
		}
		if (v->present[k]) {
			pr_err("task %d: mm-%d.img records %s twice", c->pid, c->img_pid,
			       kind_name(c->lv[i].kind));
			return -EBADMSG;
		}
		v->present[k] = true;
		v->r[k] = (struct lay_range){ c->lv[i].start, c->lv[i].end };
	}
	return 0;
}

static int vdso_of(pid_t pid, struct lay_vdso *v)
{
	struct lay_map *m = NULL;
	size_t nr = 0;
	int ret = read_maps(pid, &m, &nr);

	if (ret)
		return ret;
	ret = lay_vdso_from_maps(m, nr, v);
	if (ret)
		pr_err("task %d: /proc/%d/maps shows a vDSO mapping twice", pid, pid);
	lay_maps_free(m, nr);
	return ret;
}

static int map_vdso(struct mem_ctx *c)
{
	struct lay_vdso rec, self, now;
	const char *why;
	uint64_t base;
	long m;
	int ret;

	ret = vdso_from_vmas(c, &rec);
	if (!ret)
		ret = vdso_of(getpid(), &self);
	if (ret)
		return ret;
	ret = lay_vdso_check(&rec, &self, &base, &why);
	if (ret) {
		pr_err("task %d: vDSO layout differs from the dumping kernel: %s", c->pid, why);
		return ret;
	}
	if (!base)
		return 0;       /* the task had unmapped its vDSO */
	/* map_vdso() puts [vvar] at the address and the rest after it. */
	m = rcall(c, __NR_arch_prctl, MINICR_ARCH_MAP_VDSO_64, base, 0, 0, 0, 0);
	/* Success returns the size of the vDSO text (prctl_map_vdso()). */
	if (m < 0) {
		ret = m;
		pr_err("task %d: cannot map the vDSO at %llx: %s", c->pid, (unsigned long long)base,
		       errstr(ret));
		return ret;
	}
	ret = vdso_of(c->pid, &now);
	if (ret)
		return ret;
	for (int k = 0; k < LAY_NR_VDSO; k++) {
		if (now.present[k] != rec.present[k] || now.r[k].start != rec.r[k].start ||
		    now.r[k].end != rec.r[k].end) {
			static const char *const names[LAY_NR_VDSO] = {
				"[vvar]", "[vvar_vclock]", "[vdso]"
			};

			pr_err("task %d: vDSO layout differs from the dumping kernel: %s is at %llx-%llx, recorded %llx-%llx",
			       c->pid, names[k], (unsigned long long)now.r[k].start,
			       (unsigned long long)now.r[k].end, (unsigned long long)rec.r[k].start,
			       (unsigned long long)rec.r[k].end);
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- 5. VMAs ---- */

static int close_open_file(struct mem_ctx *c)
{
	long m;
	int ret = 0;

	if (c->open_fd < 0)
		return 0;
	m = rcall(c, __NR_close, c->open_fd, 0, 0, 0, 0, 0);
	if (m) {
		ret = m;
		pr_err("task %d: cannot close fd %ld of %s: %s", c->pid, c->open_fd,
		       c->open_path, errstr(ret));
	}
	c->open_fd = -1;
	c->open_path = NULL;
	return ret;
}

/* Open path in the task (flags O_*); returns the fd or -errno. */
static long remote_open(struct mem_ctx *c, const char *path, int flags)
{
	size_t len = strlen(path) + 1;
	long fd;
	int ret;

	if (len > PATH_MAX) {
		pr_err("task %d: path too long: %s", c->pid, path);
		return -ENAMETOOLONG;
	}
	ret = remote_write(c->pid, c->scratch + SCR_PATH, path, len);
	if (ret) {
		pr_err("task %d: cannot write a path into the trampoline at %lx: %s", c->pid,
		       c->scratch + SCR_PATH, errstr(ret));
		return ret;
	}
	fd = rcall(c, __NR_openat, AT_FDCWD, c->scratch + SCR_PATH, flags | O_CLOEXEC, 0, 0, 0);
	if (fd < 0)
		pr_err("task %d: cannot open %s in the task: %s", c->pid, path, errstr(fd));
	return fd;
}

/* The file must be the one that was mapped: same device, inode, size and
 * modification time; mapping another file's bytes would be silent
 * corruption. */
static int check_file(struct mem_ctx *c, const VmaEntry *e)
{
	struct stat st;
	uint64_t mtime;
	int ret;

	if (stat(e->path, &st) < 0) {
		ret = -errno;
		pr_err("task %d: file %s mapped at %llx-%llx is gone: %s", c->pid, e->path,
		       (unsigned long long)e->start, (unsigned long long)e->end, errstr(ret));
		return ret;
	}
	mtime = st.st_mtim.tv_sec * 1000000000ULL + st.st_mtim.tv_nsec;
	if ((e->has_dev && e->dev != st.st_dev) || (e->has_ino && e->ino != st.st_ino)) {
		pr_err("task %d: file %s mapped at %llx-%llx was replaced since the dump (device/inode %llx/%llu, recorded %llx/%llu)",
		       c->pid, e->path, (unsigned long long)e->start, (unsigned long long)e->end,
		       (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
		       (unsigned long long)e->dev, (unsigned long long)e->ino);
		return -ESTALE;
	}
	if ((e->has_file_size && e->file_size != (uint64_t)st.st_size) ||
	    (e->has_file_mtime && e->file_mtime != mtime)) {
		pr_err("task %d: file %s mapped at %llx-%llx changed since the dump (size %lld, recorded %llu; mtime %llu ns, recorded %llu)",
		       c->pid, e->path, (unsigned long long)e->start, (unsigned long long)e->end,
		       (long long)st.st_size, (unsigned long long)e->file_size,
		       (unsigned long long)mtime, (unsigned long long)e->file_mtime);
		return -ESTALE;
	}
	return 0;
}

/* check_file() looked at the path in minicr's mount namespace; the task
 * opened it in its own (a new one with --pidns), and the file may have been
 * replaced in between: the file the task holds must be the recorded one. */
static int check_opened(struct mem_ctx *c, const VmaEntry *e, long fd)
{
	char link[64];
	struct stat st;
	int ret;

	if (!e->has_dev && !e->has_ino)
		return 0;
	snprintf(link, sizeof(link), "/proc/%d/fd/%ld", c->pid, fd);
	if (stat(link, &st) < 0) {
		ret = -errno;
		pr_err("task %d: cannot stat %s (%s): %s", c->pid, link, e->path, errstr(ret));
		return ret;
	}
	if ((e->has_dev && e->dev != st.st_dev) || (e->has_ino && e->ino != st.st_ino)) {
		pr_err("task %d: %s as the task opened it is another file (device/inode %llx/%llu, recorded %llx/%llu)",
		       c->pid, e->path, (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
		       (unsigned long long)e->dev, (unsigned long long)e->ino);
		return -ESTALE;
	}
	return 0;
}

static int pwrite_all(int fd, const uint8_t *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t w = pwrite(fd, buf, len, off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		buf += w;
		len -= w;
		off += w;
	}
	return 0;
}

/* Fill the object from shmem-<shmid>.img (runs, vaddr = offset) and
 * shmem-pages-<shmid>.img (their bytes); writing extends it, and o->size
 * follows, to the end of the last page written. */
static int shm_fill(int dirfd, struct shm_obj *o, struct progress *prog)
{
	struct img_reader rd = { 0 };
	char name[NAME_MAX + 1];
	ProtobufCMessage *msg;
	uint8_t *map = MAP_FAILED;
	uint64_t size = 0, off = 0;
	int fd = -1, ret;

	ret = img_file_name(IMG_SHMEM, o->shmid, name, sizeof(name));
	if (ret)
		return ret;
	ret = img_reader_open(dirfd, name, &img_types[IMG_SHMEM], &rd);
	if (ret)
		return ret;
	ret = img_raw_open(dirfd, IMG_SHMEM_PAGES, o->shmid, &fd, &size);
	if (ret)
		goto out;
	if (size) {
		map = mmap(NULL, size + IMG_HDR_SIZE, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			ret = -errno;
			pr_err("shmem-pages-%llu.img: cannot map: %s", (unsigned long long)o->shmid,
			       errstr(ret));
			goto out;
		}
	}
	while ((ret = img_reader_next(&rd, &msg)) == 1) {
		PagemapEntry *pe = (PagemapEntry *)msg;
		uint64_t len = (uint64_t)pe->nr_pages * LAY_PAGE_SIZE;

		if (off + len > size || pe->vaddr % LAY_PAGE_SIZE) {
			pr_err("%s: entry at offset 0x%llx (%u pages) %s", name,
			       (unsigned long long)pe->vaddr, pe->nr_pages,
			       off + len > size ? "runs past the end of the pages image"
						: "is not page aligned");
			ret = -EBADMSG;
		} else {
			ret = pwrite_all(o->fd, map + IMG_HDR_SIZE + off, len, pe->vaddr);
			if (ret)
				pr_err("shared memory %llu: cannot fill offset 0x%llx from %s: %s",
				       (unsigned long long)o->shmid, (unsigned long long)pe->vaddr,
				       name, errstr(ret));
		}
		if (pe->vaddr + len > o->size)
			o->size = pe->vaddr + len;
		off += len;
		protobuf_c_message_free_unpacked(msg, NULL);
		if (ret)
			goto out;
		pages_restored += len / LAY_PAGE_SIZE;
		progress_bytes(prog, len);
	}
	if (ret < 0)
		goto out;
	ret = 0;
	if (off != size) {
		pr_err("shmem-pages-%llu.img holds %llu bytes, %s lists %llu",
		       (unsigned long long)o->shmid, (unsigned long long)size, name,
		       (unsigned long long)off);
		ret = -EBADMSG;
	}
out:
	if (map != MAP_FAILED)
		munmap(map, size + IMG_HDR_SIZE);
	if (fd >= 0)
		close(fd);
	img_reader_close(&rd);
	return ret;
}

/* Create the object behind a shared anonymous mapping as the same kind of
 * object it was, so that /proc/PID/maps names it as before:
 *  - "/memfd:NAME (deleted)": a memfd called NAME;
 *  - "/dev/zero (deleted)", "[anon_shmem:..]" (mmap MAP_SHARED|MAP_ANONYMOUS):
 *    such a mapping in minicr itself, reopened through
 *    /proc/self/map_files (needs CAP_SYS_ADMIN, as restore does anyway);
 *  - anything else (a SysV segment, "/SYSV<key> (deleted)"): a memfd; the
 *    memory is shared among the restored tasks, but no SysV segment is
 *    recreated, and that is said.
 * size > 0 bytes: the mapping that needs the object first. */
static int shm_create(uint64_t shmid, const char *path, uint64_t size, int *fd)
{
	static const char memfd_pfx[] = "/memfd:", deleted[] = " (deleted)";
	size_t len = path ? strlen(path) : 0;
	char name[256];
	int ret;

	if (path && !strncmp(path, memfd_pfx, sizeof(memfd_pfx) - 1)) {
		size_t n = len - (sizeof(memfd_pfx) - 1);

		if (n >= sizeof(deleted) - 1 && !strcmp(path + len - (sizeof(deleted) - 1), deleted))
			n -= sizeof(deleted) - 1;
		if (n >= sizeof(name))
			n = sizeof(name) - 1;
		memcpy(name, path + sizeof(memfd_pfx) - 1, n);
		name[n] = '\0';
	} else if (path && (!strcmp(path, "/dev/zero (deleted)") ||
			    !strncmp(path, "[anon_shmem:", 12))) {
		char link[64];
		void *m = mmap(NULL, size, PROT_NONE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

		if (m == MAP_FAILED) {
			ret = -errno;
			pr_err("shared memory %llu: cannot create %llu bytes of shared anonymous memory: %s",
			       (unsigned long long)shmid, (unsigned long long)size, errstr(ret));
			return ret;
		}
		snprintf(link, sizeof(link), "/proc/self/map_files/%lx-%lx", (unsigned long)m,
			 (unsigned long)m + size);
		*fd = open(link, O_RDWR | O_CLOEXEC);
		ret = *fd < 0 ? -errno : 0;
		munmap(m, size);        /* the fd keeps the object */
		if (ret)
			pr_err("shared memory %llu: cannot open %s: %s", (unsigned long long)shmid, link,
			       errstr(ret));
		return ret;
	} else {
		pr_warn("shared memory %llu (%s) is restored as memory shared by the restored tasks only: no SysV segment or file is recreated",
			(unsigned long long)shmid, path ? path : "no path");
		snprintf(name, sizeof(name), "minicr-shmem-%llu", (unsigned long long)shmid);
	}
	/* Sealing allowed: an open fd of the same memfd may add its recorded
	 * seals (src/rst_shm.h). */
	*fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (*fd < 0) {
		ret = -errno;
		pr_err("shared memory %llu: cannot create a memfd: %s", (unsigned long long)shmid,
		       errstr(ret));
		return ret;
	}
	if (ftruncate(*fd, size) < 0) {
		ret = -errno;
		pr_err("shared memory %llu: cannot size its memfd to %llu bytes: %s",
		       (unsigned long long)shmid, (unsigned long long)size, errstr(ret));
		close(*fd);
		return ret;
	}
	return 0;
}

static bool is_memfd_path(const char *path)
{
	return path && !strncmp(path, "/memfd:", 7);
}

static struct shm_obj *shm_find(uint64_t shmid, bool memfd)
{
	for (size_t i = 0; i < nr_shm; i++)
		if (shm_objs[i].shmid == shmid && shm_objs[i].memfd == memfd)
			return &shm_objs[i];
	return NULL;
}

/* A new slot at shm_objs[nr_shm] (not yet counted), or NULL. */
static struct shm_obj *shm_slot(void)
{
	if (nr_shm == cap_shm) {
		size_t cap = cap_shm ? cap_shm * 2 : 8;
		struct shm_obj *n = realloc(shm_objs, cap * sizeof(*n));

		if (!n)
			return NULL;
		shm_objs = n;
		cap_shm = cap;
	}
	return &shm_objs[nr_shm];
}

int rst_shm_memfd(uint64_t ino)
{
	struct shm_obj *o = shm_find(ino, true);

	if (!o)
		return -ENOENT;
	/* The files restore gives it its recorded size: mappings that end
	 * beyond it must not grow it. */
	o->size = UINT64_MAX;
	return o->fd;
}

int rst_shm_adopt_memfd(uint64_t ino, int fd)
{
	struct shm_obj *o;
	int dfd;

	if (shm_find(ino, true))
		return -EEXIST;
	o = shm_slot();
	if (!o)
		return -ENOMEM;
	dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dfd < 0)
		return -errno;
	*o = (struct shm_obj){ .shmid = ino, .fd = dfd, .size = UINT64_MAX, .memfd = true };
	nr_shm++;
	return 0;
}

/* The object for shmid, created and filled on first use, at least size
 * bytes long. */
static int shm_get(int dirfd, struct progress *prog, uint64_t shmid, const char *path,
		   uint64_t size, struct shm_obj **out)
{
	struct shm_obj *o = shm_find(shmid, is_memfd_path(path));
	int ret;

	if (!o) {
		o = shm_slot();
		if (!o)
			return -ENOMEM;
		*o = (struct shm_obj){ .shmid = shmid, .size = size, .memfd = is_memfd_path(path) };
		ret = shm_create(shmid, path, size, &o->fd);
		if (ret)
			return ret;
		ret = shm_fill(dirfd, o, prog);
		if (ret) {
			close(o->fd);   /* not kept half-filled */
			return ret;
		}
		nr_shm++;
	}
	/* Later tasks may map further into the object than earlier ones,
	 * and the object may end after its last populated page. */
	if (size > o->size) {
		if (ftruncate(o->fd, size) < 0) {
			ret = -errno;
			pr_err("shared memory %llu: cannot grow it to %llu bytes: %s",
			       (unsigned long long)shmid, (unsigned long long)size, errstr(ret));
			return ret;
		}
		o->size = size;
	}
	*out = o;
	return 0;
}

/* Give the task a socket to receive fds on. A path such as
 * /proc/<minicr>/fd/N would not do: with --pidns the tree has its own /proc
 * already, where minicr is invisible (or another task has its PID). An
 * abstract unix socket lives in the network namespace, which restore
 * shares with minicr. */
static int fdpass_open(struct mem_ctx *c)
{
	long s, m;
	int n, ret;

	if (c->fdpass_sock >= 0)
		return 0;
	memset(&c->fdpass_addr, 0, sizeof(c->fdpass_addr));
	c->fdpass_addr.sun_family = AF_UNIX;
	/* sun_path[0] == 0: abstract, no file, gone with the socket. */
	n = snprintf(c->fdpass_addr.sun_path + 1, sizeof(c->fdpass_addr.sun_path) - 1,
		     "minicr-rst-%d-%d", getpid(), c->pid);
	c->fdpass_addr_len = offsetof(struct sockaddr_un, sun_path) + 1 + n;
	s = rcall(c, __NR_socket, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, 0, 0, 0);
	if (s < 0) {
		pr_err("task %d: cannot create a socket to receive shared memory fds: %s", c->pid,
		       errstr(s));
		return s;
	}
	ret = remote_write(c->pid, c->scratch + SCR_FDP_ADDR, &c->fdpass_addr, c->fdpass_addr_len);
	if (ret) {
		pr_err("task %d: cannot write a socket address into the trampoline: %s", c->pid,
		       errstr(ret));
		goto err;
	}
	m = rcall(c, __NR_bind, s, c->scratch + SCR_FDP_ADDR, c->fdpass_addr_len, 0, 0, 0);
	if (m) {
		ret = m;
		pr_err("task %d: cannot bind its fd socket to @%s: %s", c->pid,
		       c->fdpass_addr.sun_path + 1, errstr(ret));
		goto err;
	}
	c->fdpass_sock = s;
	return 0;
err:
	rcall(c, __NR_close, s, 0, 0, 0, 0, 0);
	return ret;
}

static int fdpass_close(struct mem_ctx *c)
{
	long m;

	if (c->fdpass_sock < 0)
		return 0;
	m = rcall(c, __NR_close, c->fdpass_sock, 0, 0, 0, 0, 0);
	c->fdpass_sock = -1;
	if (m)
		pr_err("task %d: cannot close its fd socket: %s", c->pid, errstr(m));
	return m;
}

/* Send the memfd of o to the task; returns the task's fd or -errno. */
static long fdpass_send(struct mem_ctx *c, const struct shm_obj *o)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	char byte = 0;
	struct iovec iov = { &byte, 1 };
	struct msghdr mh = {
		.msg_name = &c->fdpass_addr,
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct iovec riov = { (void *)(uintptr_t)(c->scratch + SCR_FDP_DATA), 1 };
	struct msghdr rmh = {
		.msg_iov = (struct iovec *)(uintptr_t)(c->scratch + SCR_FDP_IOV), .msg_iovlen = 1,
		.msg_control = (void *)(uintptr_t)(c->scratch + SCR_FDP_CTL),
		.msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cm;
	int sock = -1, fd, ret;
	long n;

	ret = fdpass_open(c);
	if (ret)
		return ret;
	mh.msg_namelen = c->fdpass_addr_len;    /* known only now */
	memset(&ctl, 0, sizeof(ctl));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &o->fd, sizeof(int));
	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0 || sendmsg(sock, &mh, 0) != 1) {
		ret = -errno;
		pr_err("task %d: cannot send the memfd of shared memory %llu: %s", c->pid,
		       (unsigned long long)o->shmid, errstr(ret));
		goto out;
	}
	ret = remote_write(c->pid, c->scratch + SCR_FDP_IOV, &riov, sizeof(riov));
	if (!ret)
		ret = remote_write(c->pid, c->scratch + SCR_FDP_MSG, &rmh, sizeof(rmh));
	if (ret) {
		pr_err("task %d: cannot write recvmsg arguments into the trampoline: %s", c->pid,
		       errstr(ret));
		goto out;
	}
	/* The datagram is queued by now: never blocks. */
	n = rcall(c, __NR_recvmsg, c->fdpass_sock, c->scratch + SCR_FDP_MSG,
		  MSG_DONTWAIT | MSG_CMSG_CLOEXEC, 0, 0, 0);
	if (n != 1) {
		ret = n < 0 ? (int)n : -EPROTO;
		pr_err("task %d: cannot receive the memfd of shared memory %llu: %s", c->pid,
		       (unsigned long long)o->shmid, errstr(ret));
		goto out;
	}
	ret = remote_read(c->pid, c->scratch + SCR_FDP_MSG, &rmh, sizeof(rmh));
	if (!ret)
		ret = remote_read(c->pid, c->scratch + SCR_FDP_CTL, ctl.buf, sizeof(ctl.buf));
	if (ret) {
		pr_err("task %d: cannot read the recvmsg result from the trampoline: %s", c->pid,
		       errstr(ret));
		goto out;
	}
	mh.msg_control = ctl.buf;
	mh.msg_controllen = rmh.msg_controllen;
	cm = CMSG_FIRSTHDR(&mh);
	if ((rmh.msg_flags & MSG_CTRUNC) || !cm || cm->cmsg_level != SOL_SOCKET ||
	    cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int))) {
		pr_err("task %d: the message carrying the memfd of shared memory %llu arrived without it",
		       c->pid, (unsigned long long)o->shmid);
		ret = -EPROTO;
		goto out;
	}
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	ret = fd;
out:
	if (sock >= 0)
		close(sock);
	return ret;
}

/* Open the backing object of e in the task: the recorded file, or the
 * memfd of a shared anonymous object through minicr's /proc/<pid>/fd. The
 * fd stays open for the next VMA of the same file. */
static long open_backing(struct mem_ctx *c, const VmaEntry *e)
{
	const char *path;
	int flags, ret;
	long fd;

	if (e->kind == VMA_KIND__VMA_ANON_SHARED) {
		struct shm_obj *o = NULL;

		ret = close_open_file(c);
		if (ret)
			return ret;
		ret = shm_get(c->dirfd, c->prog, e->ino, e->path, e->pgoff + (e->end - e->start), &o);
		if (ret)
			return ret;
		fd = fdpass_send(c, o);
		if (fd >= 0)
			c->open_fd = fd;
		/* Not cached: each VMA gets its own copy of the fd. */
		c->open_path = NULL;
		return fd;
	}

	path = e->path;
	if (!path) {
		pr_err("task %d: mm-%d.img: file mapping %llx-%llx has no path", c->pid,
		       c->img_pid, (unsigned long long)e->start, (unsigned long long)e->end);
		return -EBADMSG;
	}
	/* A writable shared mapping needs a writable fd; everything else is
	 * read from the file only. */
	flags = e->kind == VMA_KIND__VMA_FILE_SHARED &&
		((e->prot & PROT_WRITE) || (e->has_maywrite && e->maywrite)) ? O_RDWR : O_RDONLY;
	if (c->open_fd >= 0 && c->open_path && !strcmp(c->open_path, path) &&
	    c->open_flags == flags)
		return c->open_fd;
	ret = close_open_file(c);
	if (ret)
		return ret;
	ret = check_file(c, e);
	if (ret)
		return ret;
	fd = remote_open(c, path, flags);
	if (fd < 0)
		return fd;
	c->open_fd = fd;
	c->open_path = path;
	c->open_flags = flags;
	ret = check_opened(c, e, fd);
	return ret ? ret : fd;
}

static const int madv_allowed[] = {
	MADV_RANDOM, MADV_SEQUENTIAL, MADV_DONTFORK, MADV_MERGEABLE, MADV_HUGEPAGE,
	MADV_NOHUGEPAGE, MADV_DONTDUMP, MADV_WIPEONFORK,
};

static int apply_madv(struct mem_ctx *c, const VmaEntry *e)
{
	uint32_t left = e->has_madv ? e->madv : 0;

	for (size_t i = 0; i < ARRAY_SIZE(madv_allowed); i++) {
		int adv = madv_allowed[i];
		long m;

		if (!(left & (1u << adv)))
			continue;
		left &= ~(1u << adv);
		m = rcall(c, __NR_madvise, e->start, e->end - e->start, adv, 0, 0, 0);
		if (m) {
			pr_err("task %d: madvise(%d) of %llx-%llx: %s", c->pid, adv,
			       (unsigned long long)e->start, (unsigned long long)e->end, errstr(m));
			return m;
		}
	}
	if (left) {
		pr_err("task %d: mm-%d.img: VMA %llx-%llx records madvise bits 0x%x minicr cannot re-apply",
		       c->pid, c->img_pid, (unsigned long long)e->start, (unsigned long long)e->end,
		       left);
		return -ENOTSUP;
	}
	return 0;
}

/* [anon:name] comes from PR_SET_VMA_ANON_NAME: set it again. */
static int name_anon(struct mem_ctx *c, const VmaEntry *e)
{
	size_t len;
	char name[256];
	long m;
	int ret;

	if (e->kind != VMA_KIND__VMA_ANON_PRIVATE || !e->path || strncmp(e->path, "[anon:", 6))
		return 0;
	len = strlen(e->path);
	if (len < 8 || len - 7 >= sizeof(name) || e->path[len - 1] != ']') {
		pr_err("task %d: mm-%d.img: VMA %llx-%llx has a malformed name %s", c->pid,
		       c->img_pid, (unsigned long long)e->start, (unsigned long long)e->end, e->path);
		return -EBADMSG;
	}
	memcpy(name, e->path + 6, len - 7);
	name[len - 7] = '\0';
	ret = remote_write(c->pid, c->scratch + SCR_PATH, name, len - 6);
	if (ret) {
		pr_err("task %d: cannot write a name into the trampoline: %s", c->pid, errstr(ret));
		return ret;
	}
	m = rcall(c, __NR_prctl, PR_SET_VMA, PR_SET_VMA_ANON_NAME, e->start, e->end - e->start,
		  c->scratch + SCR_PATH, 0);
	if (m) {
		pr_err("task %d: cannot name %llx-%llx %s: %s", c->pid, (unsigned long long)e->start,
		       (unsigned long long)e->end, e->path, errstr(m));
		return m;
	}
	return 0;
}

/* Guard regions (MADV_GUARD_INSTALL) are page table markers, not VMAs:
 * put them back in the fresh mapping. They hold no pages, so no recorded
 * run may cover them (writing one would fault and fail the restore). */
static int install_guards(struct mem_ctx *c, size_t i)
{
	const VmaEntry *e = c->mm->vmas[i];
	const char *why;
	int ret;

	ret = lay_guards_check(&c->lv[i], e->guards, e->n_guards, &why);
	if (ret) {
		pr_err("task %d: mm-%d.img: VMA %llx-%llx: %s", c->pid, c->img_pid,
		       (unsigned long long)e->start, (unsigned long long)e->end, why);
		return ret;
	}
	for (size_t k = 0; k < e->n_guards; k += 2) {
		long m = rcall(c, __NR_madvise, e->guards[k], e->guards[k + 1] - e->guards[k],
			       MINICR_MADV_GUARD_INSTALL, 0, 0, 0);

		if (m) {
			pr_err("task %d: cannot install the guard range %llx-%llx: %s", c->pid,
			       (unsigned long long)e->guards[k], (unsigned long long)e->guards[k + 1],
			       errstr(m));
			return m;
		}
	}
	return 0;
}

static int map_vma(struct mem_ctx *c, size_t i)
{
	const VmaEntry *e = c->mm->vmas[i];
	const char *why;
	uint32_t prot, flags;
	long fd = -1, m;
	int ret;

	switch (e->kind) {
	case VMA_KIND__VMA_VDSO:
	case VMA_KIND__VMA_VVAR:
	case VMA_KIND__VMA_VVAR_VCLOCK:     /* map_vdso() did these */
	case VMA_KIND__VMA_VSYSCALL:        /* the kernel's, always there */
		return 0;
	default:
		break;
	}
	if (c->kept[i])     /* mapped and filled by the task itself */
		goto state;
	ret = lay_mmap_args(&c->lv[i], &prot, &flags, &why);
	if (ret) {
		pr_err("task %d: mm-%d.img: %s VMA %llx-%llx (flags 0x%x, prot 0x%x): %s", c->pid,
		       c->img_pid, kind_name(e->kind), (unsigned long long)e->start,
		       (unsigned long long)e->end, e->flags, e->prot, why);
		return ret;
	}
	if (e->kind != VMA_KIND__VMA_ANON_PRIVATE) {
		fd = open_backing(c, e);
		if (fd < 0)
			return fd;
	}
	m = rcall(c, __NR_mmap, e->start, e->end - e->start, prot, flags, fd,
		  fd >= 0 ? e->pgoff : 0);
	if (m < 0 || (uint64_t)m != e->start) {
		ret = m < 0 ? (int)m : -EEXIST;
		pr_err("task %d: cannot map %s VMA %llx-%llx%s%s: %s", c->pid, kind_name(e->kind),
		       (unsigned long long)e->start, (unsigned long long)e->end,
		       e->path ? " " : "", e->path ? e->path : "", errstr(ret));
		return ret;
	}
	if (e->kind == VMA_KIND__VMA_ANON_SHARED) {
		ret = close_open_file(c);
		if (ret)
			return ret;
	}
state:
	ret = apply_madv(c, e);
	if (!ret)
		ret = name_anon(c, e);
	if (!ret)
		ret = install_guards(c, i);
	return ret;
}

static int map_vmas(struct mem_ctx *c)
{
	int ret = 0;

	for (size_t i = 0; i < c->mm->n_vmas && !ret; i++)
		ret = map_vma(c, i);
	if (!ret)
		ret = close_open_file(c);
	if (!ret)
		ret = fdpass_close(c);
	return ret;
}

/* ---- 6. page contents ---- */

struct run_cursor {
	size_t run;
	uint64_t off;               /* bytes into runs[run] */
};

static void cursor_advance(const struct mem_ctx *c, struct run_cursor *cur, uint64_t bytes)
{
	while (bytes && cur->run < c->nr_runs) {
		uint64_t left = c->runs[cur->run].nr_pages * LAY_PAGE_SIZE - cur->off;
		uint64_t n = bytes < left ? bytes : left;

		cur->off += n;
		bytes -= n;
		if (n == left) {
			cur->run++;
			cur->off = 0;
		}
	}
}

/* How much of [addr, addr + len) lies, from addr on, all inside (*in) or
 * all outside the kept VMAs. */
static uint64_t kept_clip(const struct mem_ctx *c, uint64_t addr, uint64_t len, bool *in)
{
	*in = false;
	for (size_t i = 0; c->nr_kept && i < c->mm->n_vmas; i++) {
		if (!c->kept[i] || c->lv[i].end <= addr || c->lv[i].start >= addr + len)
			continue;
		if (c->lv[i].start <= addr) {
			*in = true;
			return c->lv[i].end - addr < len ? c->lv[i].end - addr : len;
		}
		len = c->lv[i].start - addr;
	}
	return len;
}

static int fill_pages(struct mem_ctx *c)
{
	struct iovec *riov = NULL;
	struct run_cursor cur = { 0, 0 };
	uint8_t *map = MAP_FAILED;
	uint64_t done = 0, map_len = c->pages_size + IMG_HDR_SIZE;
	int ret = 0;

	if (!c->nr_runs)
		return 0;
	riov = calloc(WRITE_IOVS, sizeof(*riov));
	if (!riov)
		return -ENOMEM;
	/* The page data starts at IMG_HDR_SIZE, not page aligned: map the
	 * file from 0 and copy straight from the page cache. */
	map = mmap(NULL, map_len, PROT_READ, MAP_PRIVATE, c->pages_fd, 0);
	if (map == MAP_FAILED) {
		ret = -errno;
		pr_err("task %d: cannot map pages-%d.img: %s", c->pid, c->img_pid, errstr(ret));
		goto out;
	}
	madvise(map, map_len, MADV_SEQUENTIAL);     /* a hint only */
	while (cur.run < c->nr_runs) {
		struct run_cursor b = cur;
		struct iovec liov;
		uint64_t bytes = 0, k;
		ssize_t w;
		bool in;
		int n = 0;

		/* The task filled its kept VMAs itself: their pages are
		 * skipped in the image. */
		k = kept_clip(c, c->runs[cur.run].vaddr + cur.off,
			      c->runs[cur.run].nr_pages * LAY_PAGE_SIZE - cur.off, &in);
		if (in) {
			cursor_advance(c, &cur, k);
			done += k;
			continue;
		}
		while (n < WRITE_IOVS && b.run < c->nr_runs && bytes < WRITE_BATCH) {
			uint64_t left = c->runs[b.run].nr_pages * LAY_PAGE_SIZE - b.off;

			if (left > WRITE_BATCH - bytes)
				left = WRITE_BATCH - bytes;
			left = kept_clip(c, c->runs[b.run].vaddr + b.off, left, &in);
			if (in)
				break;
			riov[n].iov_base = (void *)(uintptr_t)(c->runs[b.run].vaddr + b.off);
			riov[n].iov_len = left;
			n++;
			bytes += left;
			cursor_advance(c, &b, left);
		}
		liov.iov_base = map + IMG_HDR_SIZE + done;
		liov.iov_len = bytes;
		w = process_vm_writev(c->pid, &liov, 1, riov, n, 0);
		if (w <= 0) {
			ret = w < 0 ? -errno : -EFAULT;
			pr_err("task %d: cannot write pages at %llx-%llx: %s", c->pid,
			       (unsigned long long)(uintptr_t)riov[0].iov_base,
			       (unsigned long long)((uintptr_t)riov[0].iov_base + riov[0].iov_len),
			       errstr(ret));
			goto out;
		}
		/* A short write stops at a page the kernel could not write;
		 * the next round starts there and reports its error. */
		cursor_advance(c, &cur, w);
		done += w;
		progress_bytes(c->prog, w);
	}
	pages_restored += c->nr_pages;
out:
	if (map != MAP_FAILED)
		munmap(map, map_len);
	free(riov);
	return ret;
}

/* ---- 7. protection, mm fields ---- */

static int final_prot(struct mem_ctx *c)
{
	for (size_t i = 0; i < c->mm->n_vmas; i++) {
		const struct lay_vma *v = &c->lv[i];
		long m;

		/* Kept VMAs were mapped read-write by the task. */
		if (c->kept[i] ? v->prot == (PROT_READ | PROT_WRITE) :
				 !v->has_pages || (v->prot & PROT_WRITE))
			continue;
		m = rcall(c, __NR_mprotect, v->start, v->end - v->start, v->prot, 0, 0, 0);
		if (m) {
			pr_err("task %d: cannot mprotect %llx-%llx to 0x%x: %s", c->pid,
			       (unsigned long long)v->start, (unsigned long long)v->end, v->prot,
			       errstr(m));
			return m;
		}
	}
	return 0;
}

/* mlock and mseal come last: locking faults in (and copies) every page
 * of an mlock()ed VMA, so it is done once the contents are there, and a
 * sealed VMA refuses any later mprotect() or munmap(). */
static int lock_and_seal(struct mem_ctx *c)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < c->mm->n_vmas; i++) {
			const VmaEntry *e = c->mm->vmas[i];
			const char *what;
			long m;

			if (pass == 0 && e->has_mlock && e->mlock != VMA_MLOCK_NONE) {
				if (e->mlock != VMA_MLOCK_ALL && e->mlock != VMA_MLOCK_ONFAULT) {
					pr_err("task %d: mm-%d.img: VMA %llx-%llx has an unknown mlock state %u",
					       c->pid, c->img_pid, (unsigned long long)e->start,
					       (unsigned long long)e->end, e->mlock);
					return -EBADMSG;
				}
				what = e->mlock == VMA_MLOCK_ALL ? "mlock" : "mlock2(MLOCK_ONFAULT)";
				m = rcall(c, __NR_mlock2, e->start, e->end - e->start,
					  e->mlock == VMA_MLOCK_ONFAULT ? MINICR_MLOCK_ONFAULT : 0, 0, 0, 0);
			} else if (pass == 1 && e->has_sealed && e->sealed) {
				what = "mseal";
				m = rcall(c, MINICR_NR_mseal, e->start, e->end - e->start, 0, 0, 0, 0);
			} else {
				continue;
			}
			if (m) {
				pr_err("task %d: %s of %llx-%llx: %s", c->pid, what,
				       (unsigned long long)e->start, (unsigned long long)e->end,
				       errstr(m));
				return m;
			}
		}
	}
	return 0;
}

/* Recorded dumpable state per task, from rst_mem_restore() to
 * rst_mem_finish(). */
struct dumpable_rec {
	pid_t pid;
	uint32_t dumpable;
};
static struct dumpable_rec *dumpables;
static size_t nr_dumpables, cap_dumpables;

static int dumpable_defer(pid_t pid, uint32_t d)
{
	if (nr_dumpables == cap_dumpables) {
		size_t cap = cap_dumpables ? cap_dumpables * 2 : 16;
		struct dumpable_rec *n = realloc(dumpables, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		dumpables = n;
		cap_dumpables = cap;
	}
	dumpables[nr_dumpables++] = (struct dumpable_rec){ pid, d };
	return 0;
}

/* 1 and *d if a dumpable state is pending for pid (and forget it), else 0. */
static int dumpable_take(pid_t pid, uint32_t *d)
{
	for (size_t i = 0; i < nr_dumpables; i++) {
		if (dumpables[i].pid != pid)
			continue;
		*d = dumpables[i].dumpable;
		dumpables[i] = dumpables[--nr_dumpables];
		return 1;
	}
	return 0;
}

static int set_mm(struct mem_ctx *c)
{
	const MmEntry *mm = c->mm;
	struct prctl_mm_map pm;
	size_t auxv_size = mm->n_auxv * sizeof(uint64_t);
	long exe_fd = -1, m;
	int ret;

	if (!mm->has_mm_start_code || !mm->has_mm_end_code || !mm->has_mm_start_data ||
	    !mm->has_mm_end_data || !mm->has_mm_start_stack || !mm->has_mm_start_brk ||
	    !mm->has_mm_brk || !mm->has_mm_arg_start || !mm->has_mm_arg_end ||
	    !mm->has_mm_env_start || !mm->has_mm_env_end || !mm->exe_path || !mm->n_auxv) {
		pr_err("task %d: mm-%d.img lacks mm fields, exe_path or auxv", c->pid, c->img_pid);
		return -EBADMSG;
	}
	if (auxv_size > SCR_AUXV_MAX) {
		pr_err("task %d: mm-%d.img: auxv of %zu bytes, at most %d fit", c->pid, c->img_pid,
		       auxv_size, SCR_AUXV_MAX);
		return -EBADMSG;
	}
	exe_fd = remote_open(c, mm->exe_path, O_RDONLY);
	if (exe_fd < 0)
		return exe_fd;
	pm = (struct prctl_mm_map){
		.start_code = mm->mm_start_code, .end_code = mm->mm_end_code,
		.start_data = mm->mm_start_data, .end_data = mm->mm_end_data,
		.start_brk = mm->mm_start_brk, .brk = mm->mm_brk,
		.start_stack = mm->mm_start_stack,
		.arg_start = mm->mm_arg_start, .arg_end = mm->mm_arg_end,
		.env_start = mm->mm_env_start, .env_end = mm->mm_env_end,
		.auxv = (__u64 *)(uintptr_t)(c->scratch + SCR_AUXV),
		.auxv_size = auxv_size,
		.exe_fd = exe_fd,
	};
	ret = remote_write(c->pid, c->scratch + SCR_AUXV, mm->auxv, auxv_size);
	if (!ret)
		ret = remote_write(c->pid, c->scratch + SCR_MM_MAP, &pm, sizeof(pm));
	if (ret) {
		pr_err("task %d: cannot write PR_SET_MM_MAP arguments into the trampoline: %s",
		       c->pid, errstr(ret));
		goto out;
	}
	/* The one PR_SET_MM form that needs no CAP_SYS_RESOURCE. */
	m = rcall(c, __NR_prctl, PR_SET_MM, PR_SET_MM_MAP, c->scratch + SCR_MM_MAP, sizeof(pm), 0, 0);
	if (m) {
		ret = m;
		pr_err("task %d: PR_SET_MM_MAP (code %llx-%llx, brk %llx-%llx, stack %llx, exe %s) failed: %s",
		       c->pid, (unsigned long long)pm.start_code, (unsigned long long)pm.end_code,
		       (unsigned long long)pm.start_brk, (unsigned long long)pm.brk,
		       (unsigned long long)pm.start_stack, mm->exe_path, errstr(ret));
		goto out;
	}
	if (mm->has_thp_disable_flags || mm->has_thp_disabled) {
		unsigned long dis, how = 0;

		if (mm->has_thp_disable_flags) {
			dis = mm->thp_disable_flags & 1;
			if (mm->thp_disable_flags & 2)
				how = MINICR_PR_THP_DISABLE_EXCEPT_ADVISED;
		} else {
			dis = mm->thp_disabled;
		}
		m = rcall(c, __NR_prctl, PR_SET_THP_DISABLE, dis, how, 0, 0, 0);
		if (m) {
			ret = m;
			pr_err("task %d: PR_SET_THP_DISABLE %lu (flags 0x%lx): %s", c->pid, dis, how,
			       errstr(ret));
			goto out;
		}
	}
	if (mm->has_dumpable) {
		/* Set by rst_mem_finish(): rst_core changes the credentials in
		 * between, and the kernel resets dumpable on a uid/gid change. */
		ret = dumpable_defer(c->pid, mm->dumpable);
		if (ret)
			goto out;
	}
out:
	m = rcall(c, __NR_close, exe_fd, 0, 0, 0, 0, 0);
	if (m && !ret) {
		ret = m;
		pr_err("task %d: cannot close the exe fd %ld: %s", c->pid, exe_fd, errstr(ret));
	}
	return ret;
}

/* ---- 8. check ---- */

static void log_map(const char *what, pid_t pid, const struct lay_map *m)
{
	if (!m) {
		pr_err("task %d:   %s: nothing", pid, what);
		return;
	}
	pr_err("task %d:   %s: %llx-%llx %c%c%c%c %08llx %02x:%02x %llu %s", pid, what,
	       (unsigned long long)m->start, (unsigned long long)m->end,
	       m->prot & PROT_READ ? 'r' : '-', m->prot & PROT_WRITE ? 'w' : '-',
	       m->prot & PROT_EXEC ? 'x' : '-', m->shared ? 's' : 'p',
	       (unsigned long long)m->pgoff, m->dev_major, m->dev_minor,
	       (unsigned long long)m->ino, m->name);
}

static int check_layout(struct mem_ctx *c)
{
	struct lay_map *exp = NULL, *got = NULL;
	size_t ne = 0, ng = 0, ie, ig;
	const char *why;
	uint64_t addr;
	int ret;

	exp = calloc(c->mm->n_vmas ? c->mm->n_vmas : 1, sizeof(*exp));
	if (!exp)
		return -ENOMEM;
	for (size_t i = 0; i < c->mm->n_vmas; i++) {
		const VmaEntry *e = c->mm->vmas[i];
		struct lay_map *x = &exp[ne];
		const char *name = "";

		switch (e->kind) {
		case VMA_KIND__VMA_VSYSCALL:
			continue;
		case VMA_KIND__VMA_FILE_PRIVATE:
		case VMA_KIND__VMA_FILE_SHARED:
			x->pgoff = e->pgoff;
			x->dev_major = major(e->dev);
			x->dev_minor = minor(e->dev);
			x->ino = e->ino;
			name = e->path ? e->path : "";
			break;
		case VMA_KIND__VMA_ANON_SHARED:
			x->pgoff = e->pgoff;
			x->any_ident = true;
			break;
		default:
			/* Anonymous: only [heap], [stack], [anon:..], [vdso]...
			 * are shown (a private /dev/zero mapping is recreated
			 * as plain anonymous memory). */
			if (e->path && e->path[0] == '[')
				name = e->path;
			break;
		}
		x->start = e->start;
		x->end = e->end;
		x->prot = e->prot;
		x->shared = e->kind == VMA_KIND__VMA_FILE_SHARED || e->kind == VMA_KIND__VMA_ANON_SHARED;
		x->name = strdup(name);
		ne++;
		if (!x->name) {
			ret = -ENOMEM;
			goto out;
		}
	}
	ret = read_maps(c->pid, &got, &ng);
	if (ret)
		goto out;
	ret = lay_maps_compare(exp, ne, got, ng,
			       (struct lay_range){ c->t->tramp, c->t->tramp + c->t->tramp_len },
			       &addr, &ie, &ig, &why);
	if (ret) {
		pr_err("task %d: restored address space differs from the recorded one at %llx: %s",
		       c->pid, (unsigned long long)addr, why);
		log_map("recorded", c->pid, ie != SIZE_MAX ? &exp[ie] : NULL);
		log_map("restored", c->pid, ig != SIZE_MAX ? &got[ig] : NULL);
	}
out:
	lay_maps_free(exp, ne);
	lay_maps_free(got, ng);
	return ret;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
}

int rst_mem_restore(int dirfd, struct rst_task *t, struct progress *prog)
{
	struct mem_ctx c = {
		.t = t, .dirfd = dirfd, .prog = prog, .pid = t->pid, .img_pid = t->pe->pid,
		.pages_fd = -1, .open_fd = -1, .fdpass_sock = -1,
	};
	uint64_t t0 = now_us(), t1;
	int ret, ret2;

	ret = load_images(&c);
	if (ret)
		goto out;
	ret = drop_rseq(t);
	if (ret)
		goto out;
	ret = remote_start(&c.r, t->pid, t->pid, t->sys_ip);
	if (ret)
		goto out;
	c.started = true;
	ret = setup_tramp(&c);
	if (!ret)
		ret = unmap_all(&c);
	if (!ret)
		ret = map_vdso(&c);
	/* Before any file is mapped: the kernel refuses to replace the exe
	 * file while the old one (minicr's) is still mapped, and the restored
	 * task may well map that very file. */
	if (!ret)
		ret = set_mm(&c);
	if (!ret)
		ret = map_vmas(&c);
	t1 = now_us();
	if (!ret)
		ret = fill_pages(&c);
	if (!ret)
		pr_info("task %d: %llu pages (%llu MiB) written in %llu ms", t->pid,
			(unsigned long long)c.nr_pages,
			(unsigned long long)(c.nr_pages * LAY_PAGE_SIZE >> 20),
			(unsigned long long)(now_us() - t1) / 1000);
	if (!ret)
		ret = final_prot(&c);
	if (!ret)
		ret = check_layout(&c);
	if (!ret)
		ret = lock_and_seal(&c);
out:
	if (c.started) {
		if (ret) {
			close_open_file(&c);
			fdpass_close(&c);
		}
		/* Puts back the registers the thread had and its signal mask;
		 * rst_threads_resume() sets the recorded ones. */
		ret2 = remote_end(&c.r);
		if (!ret)
			ret = ret2;
	}
	if (!ret)
		pr_info("task %d: memory restored in %llu ms (%zu VMAs)", t->pid,
			(unsigned long long)(now_us() - t0) / 1000, c.mm ? c.mm->n_vmas : 0);
	if (c.pages_fd >= 0)
		close(c.pages_fd);
	free(c.runs);
	free(c.lv);
	free(c.kept);
	if (c.mm)
		mm_entry__free_unpacked(c.mm, NULL);
	return ret;
}

int rst_mem_finish(struct rst_task *t)
{
	struct remote r;
	uint32_t d;
	long m;
	int ret, ret2;

	if (!t->tramp) {
		pr_err("task %d: no trampoline to unmap (rst_mem_restore did not run?)", t->pid);
		return -EINVAL;
	}
	ret = remote_start(&r, t->pid, t->pid, t->tramp);
	if (ret)
		return ret;
	if (dumpable_take(t->pid, &d)) {
		/* prctl accepts only 0 and 1; dump refuses 2. */
		if (d > 1) {
			pr_err("task %d: recorded dumpable %u cannot be set by prctl", t->pid, d);
			ret = -EINVAL;
			goto end;
		}
		m = remote_syscall(&r, __NR_prctl, PR_SET_DUMPABLE, d, 0, 0, 0, 0);
		if (m) {
			ret = m;
			pr_err("task %d: PR_SET_DUMPABLE %u: %s", t->pid, d, errstr(ret));
			goto end;
		}
	}
	/* The syscall instruction unmaps its own page: the thread stops at
	 * the syscall exit and never executes there again, since
	 * rst_threads_resume() sets its registers before it runs. */
	m = remote_syscall(&r, __NR_munmap, t->tramp, t->tramp_len, 0, 0, 0, 0);
	if (m) {
		ret = m;
		pr_err("task %d: cannot unmap the trampoline %lx-%lx: %s", t->pid, t->tramp,
		       t->tramp + t->tramp_len, errstr(ret));
	}
end:
	ret2 = remote_end(&r);
	if (!ret)
		ret = ret2;
	if (!ret) {
		t->tramp = 0;
		t->tramp_len = 0;
		t->sys_ip = 0;  /* no syscall instruction is left in the task */
	}
	return ret;
}

void rst_mem_cleanup(void)
{
	for (size_t i = 0; i < nr_shm; i++)
		if (shm_objs[i].fd >= 0)
			close(shm_objs[i].fd);
	free(shm_objs);
	shm_objs = NULL;
	nr_shm = cap_shm = 0;
	free(dumpables);
	dumpables = NULL;
	nr_dumpables = cap_dumpables = 0;
}
