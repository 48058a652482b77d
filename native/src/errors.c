/* errors.c: the per-thread error text of rlhf_last_error(). */
#include <stdarg.h>
#include <stdio.h>

#include "shim.h"

static _Thread_local char t_error[8192];

const char *rlhf_last_error(void) { return t_error; }

rlhf_status rlhf_shim_fail(rlhf_status status, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(t_error, sizeof t_error, format, args);
    va_end(args);
    return status;
}

rlhf_status rlhf_shim_finish(int32_t status)
{
    if (status == RLHF_OK)
        t_error[0] = '\0';
    else if (rlhf_shim_exports.copy_last_error(t_error, (int32_t)sizeof t_error) == 0)
        snprintf(t_error, sizeof t_error, "status %d without a message", (int)status);
    return (rlhf_status)status;
}
