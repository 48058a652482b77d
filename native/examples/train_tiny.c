/* train_tiny.c: the C API end to end. A fresh byte-tiny model (2 layers, width 64) learns one string by
 * SFT for 50 AdamW steps; it prints the loss of every step, then samples a continuation of the string's
 * start. Usage: train_tiny [seed [threads]] (defaults 1337 and 2; same seed and threads, same output).
 * The tests check that this loss curve equals the managed API's, bit for bit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rlhfcore.h"

#define CHECK(call)                                                                                  \
    do {                                                                                             \
        rlhf_status status_ = (call);                                                                \
        if (status_ != RLHF_OK) {                                                                    \
            fprintf(stderr, "%s failed (status %d): %s\n", #call, (int)status_, rlhf_last_error()); \
            exit(1);                                                                                 \
        }                                                                                            \
    } while (0)

static const char *TEXT = "To be embedded is to be called: a C host trains the model one step at a time.";
enum { STEPS = 50, PROMPT = 12, NEW_TOKENS = 48, MAX_TOKENS = 256 };

int main(int argc, char **argv)
{
    unsigned long long seed = argc > 1 ? strtoull(argv[1], NULL, 10) : 1337;
    int threads = argc > 2 ? atoi(argv[2]) : 2;

    CHECK(rlhf_init(RLHF_API_VERSION, NULL));
    rlhf_backend *cpu;
    rlhf_model *model;
    rlhf_tokenizer *bytes;
    rlhf_optimizer *adamw;
    CHECK(rlhf_backend_create("cpu", threads, &cpu));
    CHECK(rlhf_model_create_preset(cpu, "byte-tiny", 0, seed, &model));
    CHECK(rlhf_tokenizer_create("byte", NULL, &bytes));
    CHECK(rlhf_optimizer_create(model, "adamw", "weight_decay=0.0", &adamw));

    /* One row: inputs are the text's ids, targets the same ids shifted by one. */
    int32_t ids[MAX_TOKENS], n;
    CHECK(rlhf_tokenize(bytes, TEXT, ids, MAX_TOKENS, &n));
    int32_t T = n - 1;
    printf("byte-tiny, seed %llu, %d threads, %d tokens\n", seed, threads, (int)T);
    for (int step = 0; step < STEPS; step++) {
        double loss;
        float norm;
        CHECK(rlhf_model_zero_grad(model));
        CHECK(rlhf_sft_loss(model, ids, ids + 1, NULL, 1, T, 1, 1, &loss));
        CHECK(rlhf_optimizer_step(adamw, 3e-3f, 1.0f, &norm));
        printf("step %d loss %.17g\n", step, loss);
    }

    rlhf_sampling sampling = {.temperature = 0.8f, .top_k = 40, .top_p = 0.95f, .max_new_tokens = NEW_TOKENS,
                              .eos_token = -1, .seed = seed};
    int32_t out[NEW_TOKENS], length, prompt_length = PROMPT;
    CHECK(rlhf_generate(model, ids, &prompt_length, 1, PROMPT, &sampling, out, &length));
    char prompt[4 * PROMPT + 1], completion[4 * NEW_TOKENS + 1];
    int32_t bytes_out;
    CHECK(rlhf_detokenize(bytes, ids, PROMPT, prompt, sizeof prompt, &bytes_out));
    CHECK(rlhf_detokenize(bytes, out, length, completion, sizeof completion, &bytes_out));
    printf("sample: %s|%s\n", prompt, completion);

    CHECK(rlhf_optimizer_destroy(adamw));
    CHECK(rlhf_tokenizer_destroy(bytes));
    CHECK(rlhf_model_destroy(model));
    CHECK(rlhf_backend_destroy(cpu));
    CHECK(rlhf_shutdown());
    return 0;
}
