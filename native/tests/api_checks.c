/* api_checks.c: what the C API computes is what the engine computes. Usage:
 *   rlhf_api_checks all | list | CASE...
 * Prints "ok CASE", "skip CASE: why" or "FAIL CASE: ..." per case; exits 1 when any case fails. The GPT-2
 * tokenizer case reads RLHF_GPT2_TOKENIZER_DIR (vocab.json, merges.txt), the Hugging Face checkpoint case
 * RLHF_HF_CHECKPOINT (a model.safetensors); each skips without its variable. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rlhfcore.h"

static const char *g_case;
static int g_failed, g_skipped;

#define MUST(call) must((call), #call, __LINE__)
#define CHECK_THAT(cond, ...) check_that((cond), __LINE__, __VA_ARGS__)

static void must(rlhf_status status, const char *text, int line)
{
    if (status == RLHF_OK) return;
    printf("FAIL %s (line %d): %s returned %d: %s\n", g_case, line, text, (int)status, rlhf_last_error());
    exit(1);
}

static void check_that(int cond, int line, const char *format, ...) __attribute__((format(printf, 3, 4)));
static void check_that(int cond, int line, const char *format, ...)
{
    if (cond) return;
    va_list args;
    va_start(args, format);
    printf("FAIL %s (line %d): ", g_case, line);
    vprintf(format, args);
    printf("\n");
    va_end(args);
    g_failed = 1;
}

enum { V = 260, T = 24, B = 2 };

typedef struct fixture {
    rlhf_backend *cpu;
    rlhf_model *model; /* byte-tiny with a reward head */
    int32_t tokens[B * T], targets[B * T];
} fixture;

static void set_up(fixture *f)
{
    MUST(rlhf_init(RLHF_API_VERSION, NULL));
    MUST(rlhf_backend_create("cpu", 2, &f->cpu));
    MUST(rlhf_model_create_preset(f->cpu, "byte-tiny", RLHF_HEAD_REWARD, 11, &f->model));
    for (int i = 0; i < B * T; i++) f->tokens[i] = 32 + (i * 7919) % 90;
    for (int i = 0; i < B * T; i++) f->targets[i] = i % T == T - 1 ? -1 : f->tokens[i + 1];
}

static float *forward(rlhf_model *m, const int32_t *tokens, const int32_t *mask, int batch, int seq)
{
    float *logits = malloc(sizeof(float) * (size_t)batch * seq * V);
    MUST(rlhf_model_forward(m, tokens, mask, batch, seq, logits));
    return logits;
}

static void case_save_load(fixture *f)
{
    char dir[] = "/tmp/rlhf_api_checks_XXXXXX", st[64], bin[64];
    CHECK_THAT(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(st, sizeof st, "%s/m.safetensors", dir);
    snprintf(bin, sizeof bin, "%s/m.bin", dir);
    rlhf_model *lm, *from_st, *from_bin;
    MUST(rlhf_model_create_preset(f->cpu, "byte-tiny", 0, 5, &lm));
    MUST(rlhf_model_save(lm, st));
    MUST(rlhf_model_save(lm, bin));
    MUST(rlhf_model_load(f->cpu, st, 0, 1, &from_st));
    MUST(rlhf_model_load(f->cpu, bin, 0, 1, &from_bin));
    float *a = forward(lm, f->tokens, NULL, B, T), *b = forward(from_st, f->tokens, NULL, B, T), *c = forward(from_bin, f->tokens, NULL, B, T);
    CHECK_THAT(!memcmp(a, b, sizeof(float) * B * T * V), "safetensors round trip changed the logits");
    CHECK_THAT(!memcmp(a, c, sizeof(float) * B * T * V), "llm.c .bin round trip changed the logits");
    /* The reward head survives a safetensors round trip. */
    rlhf_model *rm;
    uint32_t heads = 0;
    MUST(rlhf_model_save(f->model, st));
    MUST(rlhf_model_load(f->cpu, st, 0, 1, &rm));
    MUST(rlhf_model_get_config(rm, &(rlhf_model_config){0}, &heads));
    CHECK_THAT(heads == RLHF_HEAD_REWARD, "heads after load %u", heads);
    free(a), free(b), free(c);
    MUST(rlhf_model_destroy(rm));
    MUST(rlhf_model_destroy(lm));
    MUST(rlhf_model_destroy(from_st));
    MUST(rlhf_model_destroy(from_bin));
    remove(st), remove(bin), rmdir(dir);
}

/* Mean next-token cross-entropy from logits, in double: the reference for rlhf_sft_loss. */
static double cross_entropy(const float *logits, const int32_t *targets, int n)
{
    double sum = 0;
    int counted = 0;
    for (int i = 0; i < n; i++) {
        if (targets[i] < 0) continue;
        const float *row = logits + (size_t)i * V;
        double max = row[0], z = 0;
        for (int v = 1; v < V; v++) max = row[v] > max ? row[v] : max;
        for (int v = 0; v < V; v++) z += exp(row[v] - max);
        sum += log(z) + max - row[targets[i]];
        counted++;
    }
    return sum / counted;
}

static void case_forward_and_sft(fixture *f)
{
    float *logits = forward(f->model, f->tokens, NULL, B, T);
    double loss, reference = cross_entropy(logits, f->targets, B * T);
    MUST(rlhf_sft_loss(f->model, f->tokens, f->targets, NULL, B, T, 1, 0, &loss));
    CHECK_THAT(fabs(loss - reference) <= 1e-5 * reference, "sft loss %.9g, cross-entropy of the logits %.9g", loss, reference);
    /* Padding: row 1 holds row 0's first 16 tokens left-padded by 8; its real positions see what row 0 saw. */
    int32_t tokens[B * T], mask[B * T];
    for (int t = 0; t < T; t++) {
        tokens[t] = f->tokens[t], mask[t] = 1;
        tokens[T + t] = t < 8 ? 0 : f->tokens[t - 8], mask[T + t] = t >= 8;
    }
    float *padded = forward(f->model, tokens, mask, B, T);
    double worst = 0;
    for (int t = 8; t < T; t++)
        for (int v = 0; v < V; v++) {
            double d = fabs(padded[((size_t)T + t) * V + v] - padded[(size_t)(t - 8) * V + v]);
            worst = d > worst ? d : worst;
        }
    CHECK_THAT(worst <= 1e-4, "a left-padded row's logits differ from the unpadded row's by %g", worst);
    /* Gradients accumulate: two identical backward passes give twice one pass's gradient. */
    rlhf_buffers buffers;
    MUST(rlhf_model_buffers(f->model, &buffers));
    float *once = malloc((size_t)buffers.bytes), *twice = malloc((size_t)buffers.bytes);
    MUST(rlhf_model_zero_grad(f->model));
    MUST(rlhf_sft_loss(f->model, f->tokens, f->targets, NULL, B, T, 1, 1, &loss));
    MUST(rlhf_buffer_read(f->model, RLHF_BUFFER_GRADIENTS, 0, once, buffers.bytes));
    MUST(rlhf_sft_loss(f->model, f->tokens, f->targets, NULL, B, T, 1, 1, &loss));
    MUST(rlhf_buffer_read(f->model, RLHF_BUFFER_GRADIENTS, 0, twice, buffers.bytes));
    double norm = 0, err = 0;
    for (int64_t i = 0; i < buffers.bytes / 4; i++) norm += once[i] * (double)once[i], err += fabs(twice[i] - 2.0 * once[i]);
    CHECK_THAT(norm > 0 && err <= 1e-6 * buffers.bytes, "gradient norm² %g, accumulation error %g", norm, err);
    free(logits), free(padded), free(once), free(twice);
}

static void case_reward(fixture *f)
{
    double loss;
    float scores[B], ratings[B] = {1.5f, -0.5f};
    MUST(rlhf_reward_loss(f->model, "regression", f->tokens, NULL, B, T, ratings, 0, &loss, scores));
    double reference = ((scores[0] - 1.5) * (scores[0] - 1.5) + (scores[1] + 0.5) * (scores[1] + 0.5)) / 2;
    CHECK_THAT(fabs(loss - reference) <= 1e-6 * (1 + reference), "regression loss %.9g, from the scores %.9g", loss, reference);
    MUST(rlhf_reward_loss(f->model, "bradley-terry", f->tokens, NULL, B, T, NULL, 0, &loss, scores));
    double x = scores[0] - scores[1], bt = x > 0 ? log1p(exp(-x)) : -x + log1p(exp(x));
    CHECK_THAT(fabs(loss - bt) <= 1e-6, "bradley-terry loss %.9g, from the scores %.9g", loss, bt);
    /* Training on the pair raises the chosen row's score above the rejected one's. */
    rlhf_optimizer *o;
    MUST(rlhf_optimizer_create(f->model, "adamw", "weight_decay=0", &o));
    for (int step = 0; step < 20; step++) {
        MUST(rlhf_model_zero_grad(f->model));
        MUST(rlhf_reward_loss(f->model, "bradley-terry", f->tokens, NULL, B, T, NULL, 1, &loss, NULL));
        MUST(rlhf_optimizer_step(o, 1e-3f, 0, NULL));
    }
    MUST(rlhf_reward_loss(f->model, "bradley-terry", f->tokens, NULL, B, T, NULL, 0, &loss, scores));
    CHECK_THAT(scores[0] > scores[1] && loss < bt, "after 20 steps: scores %g vs %g, loss %g (was %g)", scores[0], scores[1], loss, bt);
    MUST(rlhf_optimizer_destroy(o));
}

static void case_dpo(fixture *f)
{
    rlhf_model *policy, *reference;
    MUST(rlhf_model_create_preset(f->cpu, "byte-tiny", 0, 9, &policy));
    MUST(rlhf_model_clone(policy, &reference));
    /* One pair: a shared 6-token prompt, completions of 10 and 7 tokens. */
    int32_t tokens[2 * T] = {0}, mask[2 * T] = {0}, prompt_length = 6;
    for (int t = 0; t < 16; t++) tokens[t] = 'a' + t, mask[t] = 1;
    for (int t = 0; t < 13; t++) tokens[T + t] = t < 6 ? 'a' + t : 'z' - t, mask[T + t] = 1;
    double loss;
    rlhf_dpo_metrics m;
    MUST(rlhf_dpo_loss(policy, reference, "sigmoid", 0.1, 0, tokens, mask, &prompt_length, 1, T, 0, &loss, &m));
    CHECK_THAT(fabs(loss - log(2.0)) <= 1e-9 && m.rewards_chosen == 0 && m.rewards_rejected == 0,
               "a policy equal to its reference: loss %.12g (log 2 expected), rewards %g %g", loss, m.rewards_chosen, m.rewards_rejected);
    rlhf_optimizer *o;
    MUST(rlhf_optimizer_create(policy, "adamw", NULL, &o));
    for (int step = 0; step < 10; step++) {
        MUST(rlhf_model_zero_grad(policy));
        MUST(rlhf_dpo_loss(policy, reference, "sigmoid", 0.1, 0, tokens, mask, &prompt_length, 1, T, 1, &loss, NULL));
        MUST(rlhf_optimizer_step(o, 3e-3f, 1.0f, NULL));
    }
    MUST(rlhf_dpo_loss(policy, reference, "sigmoid", 0.1, 0, tokens, mask, &prompt_length, 1, T, 0, &loss, &m));
    CHECK_THAT(loss < log(2.0) && m.rewards_accuracy == 1 && m.rewards_margin > 0, "after 10 steps: loss %g, accuracy %g, margin %g",
               loss, m.rewards_accuracy, m.rewards_margin);
    MUST(rlhf_dpo_loss(policy, reference, "ipo", 0.1, 0, tokens, mask, &prompt_length, 1, T, 0, &loss, &m));
    CHECK_THAT(isfinite(loss), "ipo loss %g", loss);
    MUST(rlhf_optimizer_destroy(o));
    MUST(rlhf_model_destroy(reference));
    MUST(rlhf_model_destroy(policy));
}

static void case_generate(fixture *f)
{
    int32_t prompt_lengths[B] = {5, 9}, out1[B * 12], out2[B * 12], len1[B], len2[B];
    rlhf_sampling s = {.temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .max_new_tokens = 12, .eos_token = -1, .seed = 42};
    MUST(rlhf_generate(f->model, f->tokens, prompt_lengths, B, T, &s, out1, len1));
    MUST(rlhf_generate(f->model, f->tokens, prompt_lengths, B, T, &s, out2, len2));
    CHECK_THAT(!memcmp(out1, out2, sizeof out1) && len1[0] == 12 && len1[1] == 12, "the same seed sampled different tokens");
    /* Greedy: the first new token is the argmax of a forward pass's last logits. */
    s.temperature = 0;
    MUST(rlhf_generate(f->model, f->tokens, prompt_lengths, 1, T, &s, out1, len1));
    float *logits = forward(f->model, f->tokens, NULL, 1, 5);
    int best = 0;
    for (int v = 1; v < V; v++) best = logits[4 * V + v] > logits[4 * V + best] ? v : best;
    CHECK_THAT(out1[0] == best, "greedy token %d, argmax of the logits %d", (int)out1[0], best);
    /* An EOS token stops the row; the unused places hold -1. */
    s.eos_token = out1[0];
    MUST(rlhf_generate(f->model, f->tokens, prompt_lengths, 1, T, &s, out2, len2));
    CHECK_THAT(len2[0] == 1 && out2[1] == -1, "stopping at eos: length %d, next slot %d", (int)len2[0], (int)out2[1]);
    free(logits);
}

static void case_buffers(fixture *f)
{
    int32_t count;
    rlhf_buffers buffers;
    rlhf_tensor_info info, last;
    MUST(rlhf_model_tensor_count(f->model, &count));
    MUST(rlhf_model_buffers(f->model, &buffers));
    CHECK_THAT(!buffers.on_device && buffers.parameters && buffers.gradients, "CPU buffers are host pointers");
    int64_t end = 0;
    for (int32_t i = 0; i < count; i++) {
        MUST(rlhf_model_tensor_info(f->model, i, &info));
        int64_t elements = 1;
        for (int d = 0; d < info.rank; d++) elements *= info.shape[d];
        CHECK_THAT(info.offset % 64 == 0 && info.offset >= end && elements == info.elements, "tensor %s: offset %lld, elements %lld",
                   info.name, (long long)info.offset, (long long)info.elements);
        end = info.offset + 4 * info.elements;
        last = info;
    }
    MUST(rlhf_model_tensor_info(f->model, 0, &info));
    CHECK_THAT(!strcmp(info.name, "wte.weight") && info.shape[0] == V && info.shape[1] == 64, "tensor 0 is %s", info.name);
    CHECK_THAT(!strcmp(last.name, "score.weight") && end <= buffers.bytes, "last tensor %s ends at %lld of %lld", last.name,
               (long long)end, (long long)buffers.bytes);
    /* The host pointer and the checked copy see the same values. */
    float copy[16];
    MUST(rlhf_buffer_read(f->model, RLHF_BUFFER_PARAMETERS, info.offset, copy, sizeof copy));
    CHECK_THAT(!memcmp(copy, (const char *)buffers.parameters + info.offset, sizeof copy), "rlhf_buffer_read differs from the host pointer");
    /* A host-side optimizer: plain SGD through the pointers lowers the loss. */
    double before, after;
    for (int step = 0; step < 5; step++) {
        MUST(rlhf_model_zero_grad(f->model));
        MUST(rlhf_sft_loss(f->model, f->tokens, f->targets, NULL, B, T, 1, 1, step ? &after : &before));
        float *p = buffers.parameters;
        const float *g = buffers.gradients;
        for (int64_t i = 0; i < buffers.bytes / 4; i++) p[i] -= 0.5f * g[i];
    }
    MUST(rlhf_sft_loss(f->model, f->tokens, f->targets, NULL, B, T, 1, 0, &after));
    CHECK_THAT(after < before, "host SGD: loss %g -> %g", before, after);
}

static void case_gpt2_tokenizer(fixture *f)
{
    (void)f;
    const char *dir = getenv("RLHF_GPT2_TOKENIZER_DIR");
    if (!dir) {
        printf("skip %s: RLHF_GPT2_TOKENIZER_DIR is not set\n", g_case);
        g_skipped = 1;
        return;
    }
    rlhf_tokenizer *t;
    int32_t ids[8], count, vocab, eot, length;
    MUST(rlhf_tokenizer_create("gpt2", dir, &t));
    MUST(rlhf_tokenizer_info(t, &vocab, &eot));
    MUST(rlhf_tokenize(t, "Hello world", ids, 8, &count));
    CHECK_THAT(vocab == 50257 && eot == 50256 && count == 2 && ids[0] == 15496 && ids[1] == 995, "vocab %d eot %d, %d ids: %d %d",
               (int)vocab, (int)eot, (int)count, (int)ids[0], (int)ids[1]);
    char text[32];
    MUST(rlhf_detokenize(t, ids, count, text, sizeof text, &length));
    CHECK_THAT(!strcmp(text, "Hello world") && length == 11, "detokenized \"%s\"", text);
    MUST(rlhf_tokenizer_destroy(t));
}

static void case_hf_checkpoint(fixture *f)
{
    const char *path = getenv("RLHF_HF_CHECKPOINT");
    if (!path) {
        printf("skip %s: RLHF_HF_CHECKPOINT is not set\n", g_case);
        g_skipped = 1;
        return;
    }
    /* A file written by Hugging Face transformers: GPT-2 with n_embd 2, one layer, the full vocabulary. */
    rlhf_model *m;
    rlhf_model_config c;
    MUST(rlhf_model_load(f->cpu, path, 0, 1, &m));
    MUST(rlhf_model_get_config(m, &c, NULL));
    CHECK_THAT(c.vocab_size == 50257 && c.channels == 2 && c.num_layers == 1, "config %d %d %d", (int)c.vocab_size, (int)c.channels,
               (int)c.num_layers);
    int32_t ids[3] = {15496, 995, 50256};
    float *logits = malloc(sizeof(float) * 3 * 50257);
    MUST(rlhf_model_forward(m, ids, NULL, 1, 3, logits));
    int finite = 1;
    for (int i = 0; i < 3 * 50257; i++) finite &= isfinite(logits[i]) != 0;
    CHECK_THAT(finite, "non-finite logits from the Hugging Face checkpoint");
    free(logits);
    MUST(rlhf_model_destroy(m));
}

typedef struct test_case {
    const char *name;
    void (*run)(fixture *);
} test_case;

static const test_case CASES[] = {
    {"save_load", case_save_load}, {"forward_and_sft", case_forward_and_sft}, {"reward", case_reward}, {"dpo", case_dpo},
    {"generate", case_generate},   {"buffers", case_buffers},                 {"gpt2_tokenizer", case_gpt2_tokenizer},
    {"hf_checkpoint", case_hf_checkpoint},
};
enum { N_CASES = sizeof CASES / sizeof CASES[0] };

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: rlhf_api_checks all | list | CASE...\n");
        return 2;
    }
    int failures = 0;
    for (int a = 1; a < argc; a++) {
        int found = 0;
        for (int i = 0; i < N_CASES; i++) {
            if (!strcmp(argv[a], "list")) {
                printf("%s\n", CASES[i].name), found = 1;
            } else if (!strcmp(argv[a], "all") || !strcmp(argv[a], CASES[i].name)) {
                fixture f;
                g_case = CASES[i].name, g_failed = 0, g_skipped = 0, found = 1;
                set_up(&f);
                CASES[i].run(&f);
                MUST(rlhf_shutdown());
                if (!g_failed && !g_skipped) printf("ok %s\n", g_case);
                failures += g_failed;
            }
        }
        if (!found) {
            fprintf(stderr, "unknown case %s\n", argv[a]);
            return 2;
        }
    }
    return failures ? 1 : 0;
}
