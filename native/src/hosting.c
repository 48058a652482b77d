/* hosting.c: starts the .NET runtime with nethost/hostfxr (the documented native-hosting route; NativeAOT
 * is out because the GPU backend generates code at run time) and binds the managed entry points of
 * RlhfCore.dll by name. The runtime starts once per process and stays: .NET cannot unload it. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <coreclr_delegates.h>
#include <hostfxr.h>
#include <nethost.h>

#include "shim.h"

rlhf_exports rlhf_shim_exports;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_bound;                 /* entry points bound (stays 1: the runtime cannot go away) */
static volatile int g_ready;        /* between rlhf_init and rlhf_shutdown */
static char g_host_errors[2048];    /* what hostfxr reported while starting */

int rlhf_shim_ready(void) { return g_ready; }

static void HOSTFXR_CALLTYPE collect_host_error(const char_t *message)
{
    size_t used = strlen(g_host_errors);
    snprintf(g_host_errors + used, sizeof g_host_errors - used, "%s%s", used ? "; " : "", message);
}

/* The folder librlhfcore.so was loaded from. */
static int own_folder(char *out, size_t size)
{
    Dl_info info;
    if (!dladdr((void *)&rlhf_shim_bind, &info) || !info.dli_fname) return 0;
    snprintf(out, size, "%s", info.dli_fname);
    char *slash = strrchr(out, '/');
    if (!slash) return snprintf(out, size, ".") > 0;
    *slash = '\0';
    return 1;
}

static rlhf_status bind_all(const char *dir)
{
    char assembly[PATH_MAX], config[PATH_MAX], hostfxr_path[PATH_MAX];
    snprintf(assembly, sizeof assembly, "%s/RlhfCore.dll", dir);
    snprintf(config, sizeof config, "%s/RlhfCore.runtimeconfig.json", dir);
    FILE *probe = fopen(config, "r");
    if (!probe)
        return rlhf_shim_fail(RLHF_ERR_RUNTIME, "rlhf_init: %s not found: managed_dir must hold the output of the native build "
                              "(RlhfCore.dll and RlhfCore.runtimeconfig.json beside librlhfcore.so)", config);
    fclose(probe);

    size_t size = sizeof hostfxr_path;
    struct get_hostfxr_parameters params = {sizeof params, assembly, NULL};
    int rc = get_hostfxr_path(hostfxr_path, &size, &params);
    if (rc != 0)
        return rlhf_shim_fail(RLHF_ERR_RUNTIME, "rlhf_init: no .NET runtime found (get_hostfxr_path: 0x%x); install .NET 10 "
                              "or set DOTNET_ROOT", (unsigned)rc);
    void *lib = dlopen(hostfxr_path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) return rlhf_shim_fail(RLHF_ERR_RUNTIME, "rlhf_init: cannot load %s: %s", hostfxr_path, dlerror());
    hostfxr_initialize_for_runtime_config_fn init = (hostfxr_initialize_for_runtime_config_fn)dlsym(lib, "hostfxr_initialize_for_runtime_config");
    hostfxr_get_runtime_delegate_fn get_delegate = (hostfxr_get_runtime_delegate_fn)dlsym(lib, "hostfxr_get_runtime_delegate");
    hostfxr_close_fn close_context = (hostfxr_close_fn)dlsym(lib, "hostfxr_close");
    hostfxr_set_error_writer_fn set_error_writer = (hostfxr_set_error_writer_fn)dlsym(lib, "hostfxr_set_error_writer");
    if (!init || !get_delegate || !close_context || !set_error_writer)
        return rlhf_shim_fail(RLHF_ERR_RUNTIME, "rlhf_init: %s lacks the hosting exports (hostfxr_initialize_for_runtime_config, ...)", hostfxr_path);

    g_host_errors[0] = '\0';
    set_error_writer(collect_host_error);
    hostfxr_handle context = NULL;
    rc = init(config, NULL, &context);
    load_assembly_and_get_function_pointer_fn load = NULL;
    if (rc >= 0 && context) rc = get_delegate(context, hdt_load_assembly_and_get_function_pointer, (void **)&load);
    if (context) close_context(context);
    set_error_writer(NULL);
    if (rc < 0 || !load)
        return rlhf_shim_fail(RLHF_ERR_RUNTIME, "rlhf_init: the .NET runtime did not start from %s (0x%x): %s", config,
                              (unsigned)rc, g_host_errors[0] ? g_host_errors : "no message");

    rlhf_exports bound;
#define RLHF_BIND(slot, cls, method, params)                                                                    \
    rc = load(assembly, "RlhfCore.Embedding." #cls ", RlhfCore", #method, UNMANAGEDCALLERSONLY_METHOD, NULL,   \
              (void **)&bound.slot);                                                                            \
    if (rc != 0 || !bound.slot)                                                                                 \
        return rlhf_shim_fail(RLHF_ERR_RUNTIME, "rlhf_init: %s has no entry point RlhfCore.Embedding.%s.%s (0x%x): "      \
                              "rebuild librlhfcore.so and RlhfCore.dll from one checkout", assembly, #cls, #method, (unsigned)rc);
    RLHF_EXPORTS(RLHF_BIND)
#undef RLHF_BIND
    rlhf_shim_exports = bound;
    return RLHF_OK;
}

rlhf_status rlhf_shim_bind(const char *managed_dir)
{
    char dir[PATH_MAX];
    if (managed_dir)
        snprintf(dir, sizeof dir, "%s", managed_dir);
    else if (!own_folder(dir, sizeof dir))
        return rlhf_shim_fail(RLHF_ERR_RUNTIME, "rlhf_init: cannot tell which folder librlhfcore.so is in; pass managed_dir");
    return bind_all(dir);
}

int32_t rlhf_api_version(void) { return RLHF_API_VERSION; }

rlhf_status rlhf_init(int32_t api_version, const char *managed_dir)
{
    if (api_version != RLHF_API_VERSION)
        return rlhf_shim_fail(RLHF_ERR_INVALID_ARGUMENT, "rlhf_init: the caller was built for API version %d, this library is %d",
                              (int)api_version, RLHF_API_VERSION);
    pthread_mutex_lock(&g_lock);
    rlhf_status status = RLHF_OK;
    if (!g_bound) {
        status = rlhf_shim_bind(managed_dir);
        g_bound = status == RLHF_OK;
    }
    if (status == RLHF_OK && !g_ready) {
        const int32_t sizes[] = {sizeof(rlhf_model_config), sizeof(rlhf_sampling), sizeof(rlhf_dpo_metrics),
                                 sizeof(rlhf_tensor_info), sizeof(rlhf_buffers)};
        status = rlhf_shim_finish(rlhf_shim_exports.initialize(RLHF_API_VERSION, sizes, (int32_t)(sizeof sizes / sizeof sizes[0])));
        g_ready = status == RLHF_OK;
    } else if (status == RLHF_OK) {
        rlhf_shim_finish(RLHF_OK);
    }
    pthread_mutex_unlock(&g_lock);
    return status;
}

rlhf_status rlhf_shutdown(void)
{
    pthread_mutex_lock(&g_lock);
    rlhf_status status = RLHF_OK;
    if (g_ready) {
        g_ready = 0;
        status = rlhf_shim_finish(rlhf_shim_exports.shutdown());
    } else {
        rlhf_shim_finish(RLHF_OK);
    }
    pthread_mutex_unlock(&g_lock);
    return status;
}
