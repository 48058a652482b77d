/* shim.h: what the shim's files share: the bound entry points, the binding state, and the per-thread
 * error text behind rlhf_last_error(). */
#ifndef RLHF_SHIM_H
#define RLHF_SHIM_H

#include "exports.h"

/* The entry points; valid while rlhf_shim_ready() is true. */
extern rlhf_exports rlhf_shim_exports;

/* True between a successful rlhf_init and rlhf_shutdown. */
int rlhf_shim_ready(void);

/* Starts the runtime (once per process) and binds the entry points from managed_dir; on failure sets
 * the error text and returns RLHF_ERR_RUNTIME. */
rlhf_status rlhf_shim_bind(const char *managed_dir);

/* Sets this thread's error text (printf-style) and returns status. */
rlhf_status rlhf_shim_fail(rlhf_status status, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* After a managed call: clears the error text on success, copies the managed message on failure. */
rlhf_status rlhf_shim_finish(int32_t status);

#endif
