// header_check.cpp: rlhfcore.h compiles as C++ (extern "C", no C-only constructs), warnings as errors.
// Built as an object library only; nothing runs.
#include "rlhfcore.h"

static_assert(sizeof(rlhf_model_config) == 20, "rlhf_model_config is five int32");
static_assert(RLHF_API_VERSION >= 1, "API version");

extern "C" int rlhf_header_check(void)
{
    rlhf_status (*init)(int32_t, const char *) = &rlhf_init;
    return init != nullptr ? RLHF_OK : RLHF_ERR_INTERNAL;
}
