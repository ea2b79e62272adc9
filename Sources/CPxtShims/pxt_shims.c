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
