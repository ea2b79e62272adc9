#include "pxt_shims.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

void pxt_tune_allocator(void) {
#if defined(__GLIBC__)
    // Keep up to 32 MiB free at the top of a heap, grow heaps 16 MiB at a time, and serve
    // allocations below 32 MiB from the heaps rather than fresh mappings.
    mallopt(M_TRIM_THRESHOLD, 32 << 20);
    mallopt(M_TOP_PAD, 16 << 20);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
#endif
}
