#ifndef PXT_SHIMS_H
#define PXT_SHIMS_H

/// Configures glibc's allocator for a long-running server: freed memory is kept for reuse
/// instead of being returned to the kernel after every burst of requests, which otherwise costs
/// page faults and TLB shootdowns on every write. A no-op where mallopt is unavailable.
void pxt_tune_allocator(void);

#include <stdint.h>

/// What pxt needs of `struct stat`. Reading the struct's members from Swift depends on which C
/// module the compiler attributes it to (Glibc or CDispatch, differently in the static build),
/// so the few fields are copied out here.
typedef struct {
    int64_t size;
    int64_t mtime_sec;
    int64_t mtime_nsec;
    int is_regular;
    int is_directory;
} pxt_file_info;

/// `stat(path)`, following links. Returns 0, or -1 with errno set.
int pxt_stat(const char *path, pxt_file_info *info);

/// `fstat(fd)`. Returns 0, or -1 with errno set.
int pxt_fstat(int fd, pxt_file_info *info);

#endif
