/*
 * LD_PRELOAD shim of tests/power_loss.rs: records every call that changes a file under
 * one directory, so that the test can rebuild the states a power loss could leave.
 *
 * Environment (read once, at load):
 *   PMEM_PL_DIR    absolute, canonical directory whose files are recorded
 *   PMEM_PL_TRACE  file the records are appended to (outside PMEM_PL_DIR)
 *
 * Every wrapper calls the real function (dlsym(RTLD_NEXT, ...)) and, when it succeeded
 * on a file under the directory, appends one record. Records are written with raw
 * syscall(SYS_write, ...) so the shim never recurses into itself. A record is a 40-byte
 * header {u32 kind, u32 name_len, u32 name2_len, u32 flags, u64 a, u64 b, u64 data_len}
 * (little-endian) followed by the name, the second name and the data. Names are
 * relative to the directory ("" is the directory itself).
 *
 * Shared writable mappings of recorded files are tracked with a shadow copy. Stores
 * through them are writes too (pmem's Durability::Process writes its log this way), so
 * at every intercepted call, at pmem_pl_marker, and before msync/fsync/fdatasync/munmap
 * the shim compares each mapping with its shadow and records the changed 512-byte
 * sectors as write records, one per run of changed sectors within a 4 KiB page.
 *
 * The workload marks its progress with pmem_pl_marker(text, len), found with dlsym.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum {
    K_CREATE = 1,   /* name: a new empty file appeared */
    K_WRITE = 2,    /* name, a = offset, data */
    K_SETSIZE = 3,  /* name, a = new size (ftruncate, O_TRUNC) */
    K_FALLOC = 4,   /* name, a = offset, b = length, flags = fallocate mode */
    K_FSYNC = 5,    /* name (a file) */
    K_FDATASYNC = 6,
    K_DIRSYNC = 7,  /* name: the directory ("" = the recorded directory) */
    K_LINK = 8,     /* name -> name2 */
    K_RENAME = 9,   /* name -> name2 */
    K_UNLINK = 10,  /* name */
    K_MSYNC = 11,   /* name, a = file offset, b = length */
    K_MARKER = 12,  /* name = the marker's text */
    K_SFR = 13,     /* sync_file_range: promises nothing about durability */
    K_SYNCALL = 14, /* sync(), syncfs() */
};

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

#define MAX_FDS 4096
#define MAX_MAPS 256
#define SECTOR 512
#define PAGE 4096

struct fdinfo {
    char path[PATH_MAX]; /* absolute path, "" when unknown */
    int is_dir;
    int append;
};

struct mapping {
    char *addr;     /* start of the shared mapping */
    size_t len;
    char *shadow;   /* last recorded contents */
    uint64_t off;   /* file offset of addr */
    char name[256]; /* file name relative to the directory */
};

static struct fdinfo fds[MAX_FDS];
static struct mapping maps[MAX_MAPS];
static int nmaps;
static char dir[PATH_MAX];
static size_t dirlen;
static int trace_fd = -1;
static volatile int lock_word;

static void lock(void) {
    while (__atomic_exchange_n(&lock_word, 1, __ATOMIC_ACQUIRE)) {
    }
}
static void unlock(void) { __atomic_store_n(&lock_word, 0, __ATOMIC_RELEASE); }

#define REAL(ret, name, args)                                                           \
    static ret(*real_##name) args;                                                     \
    static void load_##name(void) {                                                    \
        if (!real_##name)                                                              \
            real_##name = (ret(*) args)dlsym(RTLD_NEXT, #name);                        \
    }

REAL(int, open, (const char *, int, ...))
REAL(int, open64, (const char *, int, ...))
REAL(int, openat, (int, const char *, int, ...))
REAL(int, openat64, (int, const char *, int, ...))
REAL(ssize_t, write, (int, const void *, size_t))
REAL(ssize_t, pwrite, (int, const void *, size_t, off_t))
REAL(ssize_t, pwrite64, (int, const void *, size_t, off_t))
REAL(ssize_t, writev, (int, const struct iovec *, int))
REAL(ssize_t, pwritev, (int, const struct iovec *, int, off_t))
REAL(ssize_t, pwritev64, (int, const struct iovec *, int, off_t))
REAL(ssize_t, pwritev2, (int, const struct iovec *, int, off_t, int))
REAL(int, ftruncate, (int, off_t))
REAL(int, ftruncate64, (int, off_t))
REAL(int, truncate, (const char *, off_t))
REAL(int, truncate64, (const char *, off_t))
REAL(int, fallocate, (int, int, off_t, off_t))
REAL(int, fallocate64, (int, int, off_t, off_t))
REAL(int, posix_fallocate, (int, off_t, off_t))
REAL(int, posix_fallocate64, (int, off_t, off_t))
REAL(int, fsync, (int))
REAL(int, fdatasync, (int))
REAL(int, sync_file_range, (int, off_t, off_t, unsigned int))
REAL(int, syncfs, (int))
REAL(void, sync, (void))
REAL(int, msync, (void *, size_t, int))
REAL(int, link, (const char *, const char *))
REAL(int, linkat, (int, const char *, int, const char *, int))
REAL(int, rename, (const char *, const char *))
REAL(int, renameat, (int, const char *, int, const char *))
REAL(int, renameat2, (int, const char *, int, const char *, unsigned int))
REAL(int, unlink, (const char *))
REAL(int, unlinkat, (int, const char *, int))
REAL(int, close, (int))
REAL(void *, mmap, (void *, size_t, int, int, int, off_t))
REAL(void *, mmap64, (void *, size_t, int, int, int, off_t))
REAL(int, munmap, (void *, size_t))
REAL(void *, mremap, (void *, size_t, size_t, int, ...))
REAL(int, dup, (int))
REAL(int, dup2, (int, int))
REAL(int, dup3, (int, int, int))
REAL(int, fcntl, (int, int, ...))
REAL(int, fcntl64, (int, int, ...))

/* The real function, resolved first if it was not yet: CALL(pwrite64, (fd, buf, n, off)). */
#define CALL(name, args) (load_##name(), real_##name args)

/* The first variadic argument of the calling function, whose last fixed parameter is
   `last`, as a `type` (a GNU statement expression, so va_start sees the caller's frame). */
#define NEXT_ARG(last, type)                                                            \
    ({                                                                                 \
        va_list ap_;                                                                   \
        va_start(ap_, last);                                                           \
        type v_ = va_arg(ap_, type);                                                   \
        va_end(ap_);                                                                   \
        v_;                                                                            \
    })

/* The mode of an open-style call, passed only with O_CREAT or O_TMPFILE. */
#define MODE_ARG(flags) ((flags) & (O_CREAT | __O_TMPFILE) ? (mode_t)NEXT_ARG(flags, int) : 0)

/* Resolves every real function up front, so that no dlsym runs under the lock. */
static void load_all(void) {
    load_open(); load_open64(); load_openat(); load_openat64();
    load_write(); load_pwrite(); load_pwrite64(); load_writev(); load_pwritev();
    load_pwritev64(); load_pwritev2(); load_ftruncate(); load_ftruncate64();
    load_truncate(); load_truncate64(); load_fallocate(); load_fallocate64();
    load_posix_fallocate(); load_posix_fallocate64(); load_fsync(); load_fdatasync();
    load_sync_file_range(); load_syncfs(); load_sync(); load_msync(); load_link();
    load_linkat(); load_rename(); load_renameat(); load_renameat2(); load_unlink();
    load_unlinkat(); load_close(); load_mmap(); load_mmap64(); load_munmap();
    load_mremap(); load_dup(); load_dup2(); load_dup3(); load_fcntl(); load_fcntl64();
}

/* ---- trace output ---------------------------------------------------------------- */

static void out(const void *p, size_t n) {
    const char *c = p;
    while (n > 0) {
        long r = syscall(SYS_write, trace_fd, c, n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            abort(); /* a lost record would make the test lie */
        }
        c += r;
        n -= (size_t)r;
    }
}

static void emit(uint32_t kind, const char *name, const char *name2, uint32_t flags,
                 uint64_t a, uint64_t b, const void *data, uint64_t dlen) {
    if (trace_fd < 0)
        return;
    uint32_t h32[4] = {kind, name ? (uint32_t)strlen(name) : 0,
                       name2 ? (uint32_t)strlen(name2) : 0, flags};
    uint64_t h64[3] = {a, b, dlen};
    out(h32, sizeof h32);
    out(h64, sizeof h64);
    if (name)
        out(name, h32[1]);
    if (name2)
        out(name2, h32[2]);
    if (dlen)
        out(data, dlen);
}

/* ---- paths ---------------------------------------------------------------------------- */

/* Lexically normalises an absolute path in place ("//", "/./", "/../", trailing "/"). */
static void normalise(char *p) {
    char outp[PATH_MAX];
    size_t o = 0;
    const char *s = p;
    while (*s) {
        while (*s == '/')
            s++;
        if (!*s)
            break;
        const char *e = s;
        while (*e && *e != '/')
            e++;
        size_t n = (size_t)(e - s);
        if (n == 1 && s[0] == '.') {
        } else if (n == 2 && s[0] == '.' && s[1] == '.') {
            while (o > 0 && outp[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
        } else if (o + 1 + n < sizeof outp) {
            outp[o++] = '/';
            memcpy(outp + o, s, n);
            o += n;
        }
        s = e;
    }
    if (o == 0)
        outp[o++] = '/';
    outp[o] = 0;
    memcpy(p, outp, o + 1);
}

/* The absolute path of `path` relative to `dirfd`; 0 when it cannot be known. */
static int resolve(int dirfd, const char *path, char *abs) {
    if (!path)
        return 0;
    if (path[0] == '/') {
        if (strlen(path) >= PATH_MAX)
            return 0;
        strcpy(abs, path);
    } else {
        char base[PATH_MAX];
        if (dirfd == AT_FDCWD) {
            if (syscall(SYS_getcwd, base, sizeof base) < 0)
                return 0;
        } else if (dirfd >= 0 && dirfd < MAX_FDS && fds[dirfd].path[0]) {
            strcpy(base, fds[dirfd].path);
        } else {
            return 0;
        }
        if (strlen(base) + 1 + strlen(path) >= PATH_MAX)
            return 0;
        strcpy(abs, base);
        strcat(abs, "/");
        strcat(abs, path);
    }
    normalise(abs);
    return 1;
}

/* The name of `abs` relative to the recorded directory, or NULL when outside it. */
static const char *rel(const char *abs) {
    if (!dirlen || strncmp(abs, dir, dirlen) != 0)
        return NULL;
    if (abs[dirlen] == 0)
        return "";
    if (abs[dirlen] != '/')
        return NULL;
    return abs + dirlen + 1;
}

static const char *fd_name(int fd) {
    if (fd < 0 || fd >= MAX_FDS || !fds[fd].path[0])
        return NULL;
    return rel(fds[fd].path);
}

/* ---- shared mappings ---------------------------------------------------------------- */

/* Records the sectors of every tracked mapping that changed since the last scan. */
static void scan_all(void) {
    for (int i = 0; i < nmaps; i++) {
        struct mapping *m = &maps[i];
        size_t s = 0;
        while (s < m->len) {
            if (memcmp(m->addr + s, m->shadow + s, SECTOR) == 0) {
                s += SECTOR;
                continue;
            }
            size_t e = s + SECTOR;
            while (e < m->len && (e % PAGE) != 0 && memcmp(m->addr + e, m->shadow + e, SECTOR) != 0)
                e += SECTOR;
            memcpy(m->shadow + s, m->addr + s, e - s);
            emit(K_WRITE, m->name, NULL, 0, m->off + s, 0, m->shadow + s, e - s);
            s = e;
        }
    }
}

/* Stops tracking [addr, addr+len) (scan first). Keeps the parts of mappings outside it. */
static void untrack(char *addr, size_t len) {
    char *end = addr + len;
    for (int i = 0; i < nmaps; i++) {
        struct mapping *m = &maps[i];
        char *ms = m->addr, *me = m->addr + m->len;
        if (me <= addr || ms >= end)
            continue;
        if (ms < addr && me > end) {
            /* a hole in the middle: keep the tail as a new mapping */
            if (nmaps < MAX_MAPS) {
                struct mapping *t = &maps[nmaps++];
                *t = *m;
                size_t cut = (size_t)(end - ms);
                t->addr = end;
                t->len = (size_t)(me - end);
                t->shadow = m->shadow + cut;
                t->off = m->off + cut;
                m = &maps[i];
            }
            m->len = (size_t)(addr - ms);
        } else if (ms < addr) {
            m->len = (size_t)(addr - ms);
        } else if (me > end) {
            size_t cut = (size_t)(end - ms);
            m->addr = end;
            m->len -= cut;
            m->shadow += cut;
            m->off += cut;
        } else {
            maps[i] = maps[--nmaps];
            i--;
        }
    }
}

static void track(void *addr, size_t len, int fd, off_t off) {
    const char *name = fd_name(fd);
    if (!name || !*name || nmaps >= MAX_MAPS || strlen(name) >= sizeof maps[0].name)
        return;
    load_mmap();
    size_t plen = (len + PAGE - 1) / PAGE * PAGE;
    char *shadow = real_mmap(NULL, plen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (shadow == MAP_FAILED)
        abort();
    memcpy(shadow, addr, len);
    struct mapping *m = &maps[nmaps++];
    m->addr = addr;
    m->len = len / SECTOR * SECTOR;
    m->shadow = shadow;
    m->off = (uint64_t)off;
    strcpy(m->name, name);
}

/* ---- fd bookkeeping ------------------------------------------------------------------ */

static void remember(int fd, const char *abs, int flags) {
    if (fd < 0 || fd >= MAX_FDS)
        return;
    struct stat st;
    strcpy(fds[fd].path, abs);
    fds[fd].is_dir = syscall(SYS_fstat, fd, &st) == 0 && S_ISDIR(st.st_mode);
    fds[fd].append = (flags & O_APPEND) != 0;
}

static int do_open(int dirfd, const char *path, int flags, mode_t mode, int which) {
    char abs[PATH_MAX];
    int known = resolve(dirfd, path, abs);
    const char *name = known ? rel(abs) : NULL;
    int existed = 1;
    lock();
    scan_all();
    if (name && (flags & O_CREAT))
        existed = syscall(SYS_faccessat, AT_FDCWD, abs, F_OK, 0) == 0;
    int fd;
    switch (which) {
    case 0: fd = CALL(open, (path, flags, mode)); break;
    case 1: fd = CALL(open64, (path, flags, mode)); break;
    case 2: fd = CALL(openat, (dirfd, path, flags, mode)); break;
    default: fd = CALL(openat64, (dirfd, path, flags, mode)); break;
    }
    int saved = errno;
    if (fd >= 0 && fd < MAX_FDS) {
        if (known)
            remember(fd, abs, flags);
        else
            fds[fd].path[0] = 0;
        if (name && *name) {
            if (!existed)
                emit(K_CREATE, name, NULL, 0, 0, 0, NULL, 0);
            else if ((flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY)
                emit(K_SETSIZE, name, NULL, 0, 0, 0, NULL, 0);
        }
    }
    unlock();
    errno = saved;
    return fd;
}

int open(const char *path, int flags, ...) {
    return do_open(AT_FDCWD, path, flags, MODE_ARG(flags), 0);
}
int open64(const char *path, int flags, ...) {
    return do_open(AT_FDCWD, path, flags, MODE_ARG(flags), 1);
}
int openat(int dirfd, const char *path, int flags, ...) {
    return do_open(dirfd, path, flags, MODE_ARG(flags), 2);
}
int openat64(int dirfd, const char *path, int flags, ...) {
    return do_open(dirfd, path, flags, MODE_ARG(flags), 3);
}
int creat(const char *path, mode_t mode) {
    return do_open(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode, 0);
}
int creat64(const char *path, mode_t mode) {
    return do_open(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode, 1);
}

int close(int fd) {
    load_close();
    lock();
    scan_all();
    int r = real_close(fd);
    int saved = errno;
    if (fd >= 0 && fd < MAX_FDS)
        fds[fd].path[0] = 0;
    unlock();
    errno = saved;
    return r;
}

/* A descriptor copy names the same file. */
static int copied(int from, int to) {
    if (to >= 0 && to < MAX_FDS) {
        if (from >= 0 && from < MAX_FDS)
            fds[to] = fds[from];
        else
            fds[to].path[0] = 0;
    }
    return to;
}

int dup(int fd) {
    load_dup();
    lock();
    int r = copied(fd, real_dup(fd));
    int saved = errno;
    unlock();
    errno = saved;
    return r;
}
int dup2(int fd, int to) {
    load_dup2();
    lock();
    scan_all();
    int r = real_dup2(fd, to);
    int saved = errno;
    if (r >= 0)
        copied(fd, r);
    unlock();
    errno = saved;
    return r;
}
int dup3(int fd, int to, int flags) {
    load_dup3();
    lock();
    scan_all();
    int r = real_dup3(fd, to, flags);
    int saved = errno;
    if (r >= 0)
        copied(fd, r);
    unlock();
    errno = saved;
    return r;
}

static int do_fcntl(int fd, int cmd, long arg, int wide) {
    lock();
    int r = wide ? CALL(fcntl64, (fd, cmd, arg)) : CALL(fcntl, (fd, cmd, arg));
    int saved = errno;
    if (r >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC))
        copied(fd, r);
    if (r >= 0 && cmd == F_SETFL && fd >= 0 && fd < MAX_FDS)
        fds[fd].append = (arg & O_APPEND) != 0;
    unlock();
    errno = saved;
    return r;
}
int fcntl(int fd, int cmd, ...) { return do_fcntl(fd, cmd, NEXT_ARG(cmd, long), 0); }
int fcntl64(int fd, int cmd, ...) { return do_fcntl(fd, cmd, NEXT_ARG(cmd, long), 1); }

/* ---- writes ---------------------------------------------------------------------------- */

static off_t cur_off(int fd) {
    if (fd >= 0 && fd < MAX_FDS && fds[fd].append) {
        struct stat st;
        return syscall(SYS_fstat, fd, &st) == 0 ? st.st_size : 0;
    }
    return (off_t)syscall(SYS_lseek, fd, 0, SEEK_CUR);
}

static void emit_iov(const char *name, const struct iovec *iov, int n, off_t off, ssize_t total) {
    for (int i = 0; i < n && total > 0; i++) {
        size_t l = iov[i].iov_len < (size_t)total ? iov[i].iov_len : (size_t)total;
        if (l)
            emit(K_WRITE, name, NULL, 0, (uint64_t)off, 0, iov[i].iov_base, l);
        off += (off_t)l;
        total -= (ssize_t)l;
    }
}

ssize_t write(int fd, const void *buf, size_t n) {
    load_write();
    lock();
    scan_all();
    const char *name = fd_name(fd);
    off_t off = name ? cur_off(fd) : 0;
    ssize_t r = real_write(fd, buf, n);
    int saved = errno;
    if (name && *name && r > 0)
        emit(K_WRITE, name, NULL, 0, (uint64_t)off, 0, buf, (uint64_t)r);
    unlock();
    errno = saved;
    return r;
}

static ssize_t do_pwrite(int fd, const void *buf, size_t n, off_t off, int wide) {
    lock();
    scan_all();
    ssize_t r = wide ? CALL(pwrite64, (fd, buf, n, off)) : CALL(pwrite, (fd, buf, n, off));
    int saved = errno;
    const char *name = fd_name(fd);
    if (name && *name && r > 0)
        emit(K_WRITE, name, NULL, 0, (uint64_t)off, 0, buf, (uint64_t)r);
    unlock();
    errno = saved;
    return r;
}
ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) { return do_pwrite(fd, buf, n, off, 0); }
ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) { return do_pwrite(fd, buf, n, off, 1); }

ssize_t writev(int fd, const struct iovec *iov, int n) {
    load_writev();
    lock();
    scan_all();
    const char *name = fd_name(fd);
    off_t off = name ? cur_off(fd) : 0;
    ssize_t r = real_writev(fd, iov, n);
    int saved = errno;
    if (name && *name && r > 0)
        emit_iov(name, iov, n, off, r);
    unlock();
    errno = saved;
    return r;
}

static ssize_t do_pwritev(int fd, const struct iovec *iov, int n, off_t off, int flags, int which) {
    lock();
    scan_all();
    const char *name = fd_name(fd);
    off_t at = off;
    if (which == 2 && off == -1 && name)
        at = cur_off(fd);
    ssize_t r;
    switch (which) {
    case 0: r = CALL(pwritev, (fd, iov, n, off)); break;
    case 1: r = CALL(pwritev64, (fd, iov, n, off)); break;
    default: r = CALL(pwritev2, (fd, iov, n, off, flags)); break;
    }
    int saved = errno;
    if (name && *name && r > 0)
        emit_iov(name, iov, n, at, r);
    unlock();
    errno = saved;
    return r;
}
ssize_t pwritev(int fd, const struct iovec *iov, int n, off_t off) { return do_pwritev(fd, iov, n, off, 0, 0); }
ssize_t pwritev64(int fd, const struct iovec *iov, int n, off_t off) { return do_pwritev(fd, iov, n, off, 0, 1); }
ssize_t pwritev2(int fd, const struct iovec *iov, int n, off_t off, int flags) {
    return do_pwritev(fd, iov, n, off, flags, 2);
}

/* ---- sizes ----------------------------------------------------------------------------- */

static int do_ftruncate(int fd, off_t len, int wide) {
    lock();
    scan_all();
    int r = wide ? CALL(ftruncate64, (fd, len)) : CALL(ftruncate, (fd, len));
    int saved = errno;
    const char *name = fd_name(fd);
    if (name && *name && r == 0)
        emit(K_SETSIZE, name, NULL, 0, (uint64_t)len, 0, NULL, 0);
    unlock();
    errno = saved;
    return r;
}
int ftruncate(int fd, off_t len) { return do_ftruncate(fd, len, 0); }
int ftruncate64(int fd, off_t len) { return do_ftruncate(fd, len, 1); }

static int do_truncate(const char *path, off_t len, int wide) {
    char abs[PATH_MAX];
    const char *name = resolve(AT_FDCWD, path, abs) ? rel(abs) : NULL;
    lock();
    scan_all();
    int r = wide ? CALL(truncate64, (path, len)) : CALL(truncate, (path, len));
    int saved = errno;
    if (name && *name && r == 0)
        emit(K_SETSIZE, name, NULL, 0, (uint64_t)len, 0, NULL, 0);
    unlock();
    errno = saved;
    return r;
}
int truncate(const char *path, off_t len) { return do_truncate(path, len, 0); }
int truncate64(const char *path, off_t len) { return do_truncate(path, len, 1); }

static int do_fallocate(int fd, int mode, off_t off, off_t len, int which) {
    lock();
    scan_all();
    int r, ok;
    switch (which) {
    case 0: r = CALL(fallocate, (fd, mode, off, len)); ok = r == 0; break;
    case 1: r = CALL(fallocate64, (fd, mode, off, len)); ok = r == 0; break;
    case 2: r = CALL(posix_fallocate, (fd, off, len)); ok = r == 0; break;
    default: r = CALL(posix_fallocate64, (fd, off, len)); ok = r == 0; break;
    }
    int saved = errno;
    const char *name = fd_name(fd);
    if (name && *name && ok)
        emit(K_FALLOC, name, NULL, (uint32_t)mode, (uint64_t)off, (uint64_t)len, NULL, 0);
    unlock();
    errno = saved;
    return r;
}
int fallocate(int fd, int mode, off_t off, off_t len) { return do_fallocate(fd, mode, off, len, 0); }
int fallocate64(int fd, int mode, off_t off, off_t len) { return do_fallocate(fd, mode, off, len, 1); }
int posix_fallocate(int fd, off_t off, off_t len) { return do_fallocate(fd, 0, off, len, 2); }
int posix_fallocate64(int fd, off_t off, off_t len) { return do_fallocate(fd, 0, off, len, 3); }

/* ---- syncs ----------------------------------------------------------------------------- */

static int do_fsync(int fd, int data_only) {
    lock();
    scan_all();
    int r = data_only ? CALL(fdatasync, (fd)) : CALL(fsync, (fd));
    int saved = errno;
    const char *name = fd_name(fd);
    if (name && r == 0) {
        if (fds[fd].is_dir)
            emit(K_DIRSYNC, name, NULL, 0, 0, 0, NULL, 0);
        else
            emit(data_only ? K_FDATASYNC : K_FSYNC, name, NULL, 0, 0, 0, NULL, 0);
    }
    unlock();
    errno = saved;
    return r;
}
int fsync(int fd) { return do_fsync(fd, 0); }
int fdatasync(int fd) { return do_fsync(fd, 1); }

int sync_file_range(int fd, off_t off, off_t n, unsigned int flags) {
    load_sync_file_range();
    lock();
    scan_all();
    int r = real_sync_file_range(fd, off, n, flags);
    int saved = errno;
    const char *name = fd_name(fd);
    if (name && *name && r == 0)
        emit(K_SFR, name, NULL, flags, (uint64_t)off, (uint64_t)n, NULL, 0);
    unlock();
    errno = saved;
    return r;
}

int syncfs(int fd) {
    load_syncfs();
    lock();
    scan_all();
    int r = real_syncfs(fd);
    int saved = errno;
    if (r == 0)
        emit(K_SYNCALL, "", NULL, 0, 0, 0, NULL, 0);
    unlock();
    errno = saved;
    return r;
}

void sync(void) {
    load_sync();
    lock();
    scan_all();
    real_sync();
    emit(K_SYNCALL, "", NULL, 0, 0, 0, NULL, 0);
    unlock();
}

int msync(void *addr, size_t len, int flags) {
    load_msync();
    lock();
    scan_all();
    int r = real_msync(addr, len, flags);
    int saved = errno;
    if (r == 0 && (flags & MS_SYNC)) {
        char *a = addr, *e = (char *)addr + len;
        for (int i = 0; i < nmaps; i++) {
            struct mapping *m = &maps[i];
            char *s = a > m->addr ? a : m->addr;
            char *t = e < m->addr + m->len ? e : m->addr + m->len;
            if (s < t)
                emit(K_MSYNC, m->name, NULL, 0, m->off + (uint64_t)(s - m->addr), (uint64_t)(t - s), NULL, 0);
        }
    }
    unlock();
    errno = saved;
    return r;
}

/* ---- names ----------------------------------------------------------------------------- */

static int do_link(int ofd, const char *from, int nfd, const char *to, int flags, int which) {
    char a[PATH_MAX], b[PATH_MAX];
    const char *n1 = resolve(ofd, from, a) ? rel(a) : NULL;
    const char *n2 = resolve(nfd, to, b) ? rel(b) : NULL;
    lock();
    scan_all();
    int r;
    switch (which) {
    case 0: r = CALL(link, (from, to)); break;
    default: r = CALL(linkat, (ofd, from, nfd, to, flags)); break;
    }
    int saved = errno;
    if (r == 0 && (n1 || n2))
        emit(K_LINK, n1 ? n1 : "?outside", n2 ? n2 : "?outside", 0, 0, 0, NULL, 0);
    unlock();
    errno = saved;
    return r;
}
int link(const char *from, const char *to) { return do_link(AT_FDCWD, from, AT_FDCWD, to, 0, 0); }
int linkat(int ofd, const char *from, int nfd, const char *to, int flags) {
    return do_link(ofd, from, nfd, to, flags, 1);
}

/* After rename(a, b) (absolute paths): descriptors and shared mappings of the file that
   was at `a` now name `b` (a migration renames a pool it still writes); those of the file
   `b` replaced name no file any more, so nothing they write can be in a crash state, and
   they are forgotten. */
static void moved(const char *a, const char *b) {
    if (strcmp(a, b) == 0)
        return;
    const char *na = rel(a), *nb = rel(b);
    for (int fd = 0; fd < MAX_FDS; fd++) {
        if (!fds[fd].path[0])
            continue;
        if (strcmp(fds[fd].path, b) == 0)
            fds[fd].path[0] = 0;
        else if (strcmp(fds[fd].path, a) == 0)
            strcpy(fds[fd].path, b);
    }
    for (int i = 0; i < nmaps; i++) {
        struct mapping *m = &maps[i];
        int replaced = nb && strcmp(m->name, nb) == 0;
        int renamed = na && strcmp(m->name, na) == 0;
        if (renamed && nb && *nb && strlen(nb) < sizeof m->name) {
            strcpy(m->name, nb);
        } else if (replaced || renamed) {
            maps[i] = maps[--nmaps];
            i--;
        }
    }
}

static int do_rename(int ofd, const char *from, int nfd, const char *to, unsigned flags, int which) {
    char a[PATH_MAX], b[PATH_MAX];
    const char *n1 = resolve(ofd, from, a) ? rel(a) : NULL;
    const char *n2 = resolve(nfd, to, b) ? rel(b) : NULL;
    lock();
    scan_all();
    int r;
    switch (which) {
    case 0: r = CALL(rename, (from, to)); break;
    case 1: r = CALL(renameat, (ofd, from, nfd, to)); break;
    default: r = CALL(renameat2, (ofd, from, nfd, to, flags)); break;
    }
    int saved = errno;
    if (r == 0 && (n1 || n2))
        emit(K_RENAME, n1 ? n1 : "?outside", n2 ? n2 : "?outside", flags, 0, 0, NULL, 0);
    if (r == 0 && n1 && n2 && !(flags & RENAME_EXCHANGE))
        moved(a, b);
    unlock();
    errno = saved;
    return r;
}
int rename(const char *from, const char *to) { return do_rename(AT_FDCWD, from, AT_FDCWD, to, 0, 0); }
int renameat(int ofd, const char *from, int nfd, const char *to) {
    return do_rename(ofd, from, nfd, to, 0, 1);
}
int renameat2(int ofd, const char *from, int nfd, const char *to, unsigned int flags) {
    return do_rename(ofd, from, nfd, to, flags, 2);
}

static int do_unlink(int dirfd, const char *path, int flags, int which) {
    char a[PATH_MAX];
    const char *name = resolve(dirfd, path, a) ? rel(a) : NULL;
    lock();
    scan_all();
    int r = which == 0 ? CALL(unlink, (path)) : CALL(unlinkat, (dirfd, path, flags));
    int saved = errno;
    if (r == 0 && name && *name)
        emit(K_UNLINK, name, NULL, (uint32_t)flags, 0, 0, NULL, 0);
    unlock();
    errno = saved;
    return r;
}
int unlink(const char *path) { return do_unlink(AT_FDCWD, path, 0, 0); }
int unlinkat(int dirfd, const char *path, int flags) { return do_unlink(dirfd, path, flags, 1); }

/* ---- mappings -------------------------------------------------------------------------- */

static void *do_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off, int wide) {
    lock();
    scan_all();
    if (flags & MAP_FIXED)
        untrack(addr, len);
    void *r = wide ? CALL(mmap64, (addr, len, prot, flags, fd, off))
                   : CALL(mmap, (addr, len, prot, flags, fd, off));
    int saved = errno;
    if (r != MAP_FAILED && (flags & MAP_SHARED) && (prot & PROT_WRITE) && !(flags & MAP_ANONYMOUS))
        track(r, len, fd, off);
    unlock();
    errno = saved;
    return r;
}
void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
    return do_mmap(addr, len, prot, flags, fd, off, 0);
}
void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
    return do_mmap(addr, len, prot, flags, fd, off, 1);
}

int munmap(void *addr, size_t len) {
    load_munmap();
    lock();
    scan_all();
    untrack(addr, len);
    int r = real_munmap(addr, len);
    int saved = errno;
    unlock();
    errno = saved;
    return r;
}

void *mremap(void *old, size_t olen, size_t nlen, int flags, ...) {
    /* Not used by pmem; a moved shared mapping would escape the shadow, so refuse to
       guess: scan, stop tracking, and let the test notice missing writes. */
    void *target = flags & MREMAP_FIXED ? NEXT_ARG(flags, void *) : NULL;
    load_mremap();
    lock();
    scan_all();
    untrack(old, olen);
    void *r = real_mremap(old, olen, nlen, flags, target);
    int saved = errno;
    unlock();
    errno = saved;
    return r;
}

/* ---- markers and start-up ------------------------------------------------------------- */

/* Called by the workload (found with dlsym): records pending mapped stores, then a marker. */
__attribute__((visibility("default"))) void pmem_pl_marker(const char *text, size_t len) {
    char buf[1024];
    if (len >= sizeof buf)
        len = sizeof buf - 1;
    memcpy(buf, text, len);
    buf[len] = 0;
    lock();
    scan_all();
    emit(K_MARKER, buf, NULL, 0, 0, 0, NULL, 0);
    unlock();
}

__attribute__((constructor)) static void init(void) {
    load_all();
    const char *d = getenv("PMEM_PL_DIR");
    const char *t = getenv("PMEM_PL_TRACE");
    if (!d || !t || strlen(d) >= sizeof dir)
        return;
    strcpy(dir, d);
    normalise(dir);
    dirlen = strlen(dir);
    int fd = (int)syscall(SYS_openat, AT_FDCWD, t, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        abort();
    /* Out of the way of the descriptors the program under test uses. */
    int high = (int)syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 1000);
    if (high >= 0) {
        syscall(SYS_close, fd);
        fd = high;
    }
    trace_fd = fd;
}
