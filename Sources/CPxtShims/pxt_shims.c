#include "pxt_shims.h"

// `__GLIBC__` is only defined once a C library header has been read, so pull one in first;
// testing it before any include silently compiles the tuning out.
#include <stdlib.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

void pxt_tune_allocator(void) {
#if defined(__GLIBC__)
    // Keep up to 32 MiB free at the top of a heap, grow heaps 16 MiB at a time, and serve
    // allocations below 32 MiB from the heaps rather than fresh mappings. Setting these also
    // turns off glibc's dynamic threshold, which would otherwise lower them again.
    mallopt(M_TRIM_THRESHOLD, 32 << 20);
    mallopt(M_TOP_PAD, 16 << 20);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
#endif
}

#include <sys/stat.h>

static void fill(const struct stat *st, pxt_file_info *info) {
    info->size = (int64_t)st->st_size;
    info->mtime_sec = (int64_t)st->st_mtim.tv_sec;
    info->mtime_nsec = (int64_t)st->st_mtim.tv_nsec;
    info->is_regular = S_ISREG(st->st_mode);
    info->is_directory = S_ISDIR(st->st_mode);
}

int pxt_stat(const char *path, pxt_file_info *info) {
    struct stat st;
    if (stat(path, &st) != 0) return -1;
    fill(&st, info);
    return 0;
}

int pxt_fstat(int fd, pxt_file_info *info) {
    struct stat st;
    if (fstat(fd, &st) != 0) return -1;
    fill(&st, info);
    return 0;
}
