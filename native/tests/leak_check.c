/* leak_check.c: creates and destroys a backend, a model, an optimizer and a tokenizer, with one training
 * step and one generation each time, for N cycles (default 100), and checks that the resident set stays
 * bounded: after the first 10 cycles have warmed the runtime up, the remaining ones may add at most
 * RLHF_LEAK_LIMIT_MB (default 32 MiB), and the thread count at most 4 (the runtime's own come and go; a
 * backend's worker pool that does not stop leaks one or more per cycle). The garbage collector gets a
 * small gen-0 budget (DOTNET_GCgen0size, 2 MiB), so RSS measures memory still held, not garbage the GC has
 * not collected yet: with the default budget RSS grows by tens of MiB before the first collections.
 * Prints what it measured; exits 1 on a leak or an error. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "rlhfcore.h"

#define CHECK(call)                                                                                  \
    do {                                                                                             \
        rlhf_status status_ = (call);                                                                \
        if (status_ != RLHF_OK) {                                                                    \
            fprintf(stderr, "%s failed (status %d): %s\n", #call, (int)status_, rlhf_last_error()); \
            exit(1);                                                                                 \
        }                                                                                            \
    } while (0)

static double rss_mib(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%ld %ld", &pages, &resident) != 2) {
        fprintf(stderr, "cannot read /proc/self/statm\n");
        exit(1);
    }
    fclose(f);
    return (double)resident * (double)sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0);
}

static int thread_count(void)
{
    char line[256];
    int threads = -1;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %d", &threads) == 1) break;
    if (f) fclose(f);
    if (threads < 0) {
        fprintf(stderr, "cannot read Threads from /proc/self/status\n");
        exit(1);
    }
    return threads;
}

static void cycle(void)
{
    rlhf_backend *cpu;
    rlhf_model *model;
    rlhf_optimizer *adamw;
    rlhf_tokenizer *bytes;
    CHECK(rlhf_backend_create("cpu", 2, &cpu));
    CHECK(rlhf_model_create_preset(cpu, "byte-tiny", RLHF_HEAD_REWARD, 7, &model));
    CHECK(rlhf_optimizer_create(model, "adamw", NULL, &adamw));
    CHECK(rlhf_tokenizer_create("byte", NULL, &bytes));
    int32_t ids[64], n;
    CHECK(rlhf_tokenize(bytes, "a cycle of create, train, sample and destroy", ids, 64, &n));
    double loss;
    CHECK(rlhf_sft_loss(model, ids, ids + 1, NULL, 1, n - 1, 1, 1, &loss));
    CHECK(rlhf_optimizer_step(adamw, 1e-3f, 1.0f, NULL));
    rlhf_sampling sampling = {.temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .max_new_tokens = 8, .eos_token = -1, .seed = 1};
    int32_t out[8], length;
    CHECK(rlhf_generate(model, ids, &n, 1, n, &sampling, out, &length));
    CHECK(rlhf_tokenizer_destroy(bytes));
    CHECK(rlhf_optimizer_destroy(adamw));
    CHECK(rlhf_model_destroy(model));
    CHECK(rlhf_backend_destroy(cpu));
}

int main(int argc, char **argv)
{
    int cycles = argc > 1 ? atoi(argv[1]) : 100;
    const char *limit_text = getenv("RLHF_LEAK_LIMIT_MB");
    double limit = limit_text ? atof(limit_text) : 32.0;
    if (cycles < 11) {
        fprintf(stderr, "usage: rlhf_leak_check [cycles >= 11]\n");
        return 2;
    }
    setenv("DOTNET_GCgen0size", "0x200000", 0);
    CHECK(rlhf_init(RLHF_API_VERSION, NULL));
    for (int i = 0; i < 10; i++) cycle();
    double warm = rss_mib();
    int warm_threads = thread_count();
    for (int i = 10; i < cycles; i++) cycle();
    double end = rss_mib();
    int end_threads = thread_count();
    CHECK(rlhf_shutdown());
    printf("rss after 10 cycles %.1f MiB, after %d cycles %.1f MiB, growth %.1f MiB (limit %.1f)\n", warm, cycles, end,
           end - warm, limit);
    printf("threads after 10 cycles %d, after %d cycles %d\n", warm_threads, cycles, end_threads);
    if (end - warm > limit) {
        printf("LEAK: RSS grew by more than %.1f MiB over %d cycles\n", limit, cycles - 10);
        return 1;
    }
    if (end_threads > warm_threads + 4) {
        printf("LEAK: %d threads more after %d cycles\n", end_threads - warm_threads, cycles - 10);
        return 1;
    }
    return 0;
}
