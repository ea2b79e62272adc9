#ifndef PXT_SHIMS_H
#define PXT_SHIMS_H

/// Configures glibc's allocator for a long-running server: freed memory is kept for reuse
/// instead of being returned to the kernel after every burst of requests, which otherwise costs
/// page faults and TLB shootdowns on every write. A no-op where mallopt is unavailable.
void pxt_tune_allocator(void);

#endif
