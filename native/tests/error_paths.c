/* error_paths.c: every kind of misuse gives a status and a message, never a crash. Usage:
 *   rlhf_error_paths all | list | CASE...
 * Prints "ok CASE" or "FAIL CASE: ..." per case; exits 1 when any case fails. Each case starts from an
 * initialized library with a CPU backend and a byte-tiny model (some first shut the library down), except
 * bad_managed_dir, which must be the first case of its process (it is first in "all"). */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rlhfcore.h"

static const char *g_case;
static int g_failed;

/* Expects call to return want, with a message containing fragment (NULL: any non-empty message). */
#define EXPECT(call, want, fragment) expect_status((call), (want), (fragment), #call, __LINE__)
#define MUST(call) EXPECT(call, RLHF_OK, NULL)

static int expect_status(rlhf_status got, rlhf_status want, const char *fragment, const char *text, int line)
{
    const char *message = rlhf_last_error();
    int ok = got == want;
    if (ok && want != RLHF_OK) ok = message[0] != '\0' && (!fragment || strstr(message, fragment));
    if (ok && want == RLHF_OK) ok = message[0] == '\0';
    if (!ok) {
        printf("FAIL %s (line %d): %s returned %d, expected %d; message \"%s\"%s%s\n", g_case, line, text, (int)got, (int)want,
               message, fragment ? ", expected it to contain " : "", fragment ? fragment : "");
        g_failed = 1;
    }
    return ok;
}

typedef struct fixture {
    rlhf_backend *cpu;
    rlhf_model *model; /* byte-tiny: vocab 260, context 128 */
    int32_t tokens[2 * 16];
    float logits[2 * 16 * 260];
} fixture;

static void set_up(fixture *f)
{
    MUST(rlhf_init(RLHF_API_VERSION, NULL));
    MUST(rlhf_backend_create("cpu", 1, &f->cpu));
    MUST(rlhf_model_create_preset(f->cpu, "byte-tiny", RLHF_HEAD_REWARD, 3, &f->model));
    for (int i = 0; i < 2 * 16; i++) f->tokens[i] = 'a' + i % 26;
}

/* Runs first in its process (no set_up): a wrong managed_dir fails with the reason, and a later call
 * with the right one still binds. */
static void case_bad_managed_dir(fixture *f)
{
    EXPECT(rlhf_init(RLHF_API_VERSION, "/nonexistent"), RLHF_ERR_RUNTIME, "/nonexistent/RlhfCore.runtimeconfig.json not found");
    rlhf_backend *b;
    EXPECT(rlhf_backend_create("cpu", 1, &b), RLHF_ERR_NOT_INITIALIZED, NULL);
    set_up(f);
}

static void case_before_init(fixture *f)
{
    MUST(rlhf_shutdown());
    rlhf_backend *b;
    EXPECT(rlhf_backend_create("cpu", 1, &b), RLHF_ERR_NOT_INITIALIZED, "rlhf_init");
    EXPECT(rlhf_model_forward(f->model, f->tokens, NULL, 1, 16, f->logits), RLHF_ERR_NOT_INITIALIZED, "rlhf_model_forward");
    EXPECT(rlhf_init(RLHF_API_VERSION + 1, NULL), RLHF_ERR_INVALID_ARGUMENT, "API version");
}

static void case_second_shutdown(fixture *f)
{
    MUST(rlhf_shutdown());
    MUST(rlhf_shutdown());
    EXPECT(rlhf_model_destroy(f->model), RLHF_ERR_NOT_INITIALIZED, NULL);
    /* Initializing again works, and the old handles stay dead. */
    MUST(rlhf_init(RLHF_API_VERSION, NULL));
    MUST(rlhf_init(RLHF_API_VERSION, NULL));
    EXPECT(rlhf_model_forward(f->model, f->tokens, NULL, 1, 16, f->logits), RLHF_ERR_BAD_HANDLE, "not a live rlhf_model");
    rlhf_backend *b;
    MUST(rlhf_backend_create("cpu", 1, &b));
    MUST(rlhf_backend_destroy(b));
}

static void case_bad_handle(fixture *f)
{
    rlhf_model *stale;
    MUST(rlhf_model_clone(f->model, &stale));
    MUST(rlhf_model_destroy(stale));
    EXPECT(rlhf_model_forward(stale, f->tokens, NULL, 1, 16, f->logits), RLHF_ERR_BAD_HANDLE, "destroyed");
    EXPECT(rlhf_model_destroy(stale), RLHF_ERR_BAD_HANDLE, "not a live rlhf_model");
    EXPECT(rlhf_model_forward((rlhf_model *)(uintptr_t)0xdeadbeef, f->tokens, NULL, 1, 16, f->logits), RLHF_ERR_BAD_HANDLE, "0xdeadbeef");
    EXPECT(rlhf_model_forward(NULL, f->tokens, NULL, 1, 16, f->logits), RLHF_ERR_BAD_HANDLE, "model is NULL");
    EXPECT(rlhf_model_forward((rlhf_model *)f->cpu, f->tokens, NULL, 1, 16, f->logits), RLHF_ERR_BAD_HANDLE, "is a rlhf_backend handle");
    EXPECT(rlhf_optimizer_step((rlhf_optimizer *)f->model, 1e-3f, 0, NULL), RLHF_ERR_BAD_HANDLE, "not a rlhf_optimizer");
    EXPECT(rlhf_backend_destroy((rlhf_backend *)f->model), RLHF_ERR_BAD_HANDLE, NULL);
    EXPECT(rlhf_tokenizer_destroy(NULL), RLHF_ERR_BAD_HANDLE, NULL);
    /* The live model still works after all that. */
    MUST(rlhf_model_forward(f->model, f->tokens, NULL, 1, 16, f->logits));
}

static void case_null_pointers(fixture *f)
{
    rlhf_backend *b;
    rlhf_model *m;
    double loss;
    EXPECT(rlhf_backend_create(NULL, 1, &b), RLHF_ERR_INVALID_ARGUMENT, "device is NULL");
    EXPECT(rlhf_backend_create("cpu", 1, NULL), RLHF_ERR_INVALID_ARGUMENT, "out is NULL");
    EXPECT(rlhf_model_create_preset(f->cpu, NULL, 0, 1, &m), RLHF_ERR_INVALID_ARGUMENT, "preset is NULL");
    EXPECT(rlhf_model_create(f->cpu, NULL, 0, 1, &m), RLHF_ERR_INVALID_ARGUMENT, "config is NULL");
    EXPECT(rlhf_model_load(f->cpu, NULL, 0, 1, &m), RLHF_ERR_INVALID_ARGUMENT, "path is NULL");
    EXPECT(rlhf_model_forward(f->model, NULL, NULL, 1, 16, f->logits), RLHF_ERR_INVALID_ARGUMENT, "tokens is NULL");
    EXPECT(rlhf_model_forward(f->model, f->tokens, NULL, 1, 16, NULL), RLHF_ERR_INVALID_ARGUMENT, "logits is NULL");
    EXPECT(rlhf_sft_loss(f->model, f->tokens, NULL, NULL, 1, 15, 1, 1, &loss), RLHF_ERR_INVALID_ARGUMENT, "targets is NULL");
    EXPECT(rlhf_sft_loss(f->model, f->tokens, f->tokens + 1, NULL, 1, 15, 1, 1, NULL), RLHF_ERR_INVALID_ARGUMENT, "loss is NULL");
    EXPECT(rlhf_reward_loss(f->model, "regression", f->tokens, NULL, 2, 16, NULL, 1, &loss, NULL), RLHF_ERR_INVALID_ARGUMENT, "values is NULL");
    EXPECT(rlhf_generate(f->model, f->tokens, NULL, 1, 4, NULL, NULL, NULL), RLHF_ERR_INVALID_ARGUMENT, "sampling is NULL");
    EXPECT(rlhf_model_get_config(f->model, NULL, NULL), RLHF_ERR_INVALID_ARGUMENT, "config is NULL");
    EXPECT(rlhf_model_buffers(f->model, NULL), RLHF_ERR_INVALID_ARGUMENT, "buffers is NULL");
    EXPECT(rlhf_buffer_read(f->model, RLHF_BUFFER_PARAMETERS, 0, NULL, 16), RLHF_ERR_INVALID_ARGUMENT, "dst is NULL");
    EXPECT(rlhf_tokenizer_create(NULL, NULL, NULL), RLHF_ERR_INVALID_ARGUMENT, "out is NULL");
}

static void case_wrong_shapes(fixture *f)
{
    double loss;
    int32_t mask[16], targets[16];
    for (int i = 0; i < 16; i++) mask[i] = 1, targets[i] = 'a';
    EXPECT(rlhf_model_forward(f->model, f->tokens, NULL, 1, 129, f->logits), RLHF_ERR_INVALID_ARGUMENT, "seq_len 129 must be in [1, 128]");
    EXPECT(rlhf_model_forward(f->model, f->tokens, NULL, 0, 16, f->logits), RLHF_ERR_INVALID_ARGUMENT, "batch must be at least 1");
    f->tokens[5] = 260;
    EXPECT(rlhf_model_forward(f->model, f->tokens, NULL, 1, 16, f->logits), RLHF_ERR_INVALID_ARGUMENT, "tokens[0][5] = 260");
    f->tokens[5] = 'a';
    mask[3] = 2;
    EXPECT(rlhf_model_forward(f->model, f->tokens, mask, 1, 16, f->logits), RLHF_ERR_INVALID_ARGUMENT, "attention_mask[0][3] = 2");
    mask[3] = 1;
    targets[7] = -2;
    EXPECT(rlhf_sft_loss(f->model, f->tokens, targets, mask, 1, 16, 1, 1, &loss), RLHF_ERR_INVALID_ARGUMENT, "targets[0][7] = -2");
    targets[7] = 'b';
    EXPECT(rlhf_sft_loss(f->model, f->tokens, targets, mask, 1, 16, 0, 1, &loss), RLHF_ERR_INVALID_ARGUMENT, "grad_accum_steps");
    EXPECT(rlhf_reward_loss(f->model, "bradley-terry", f->tokens, NULL, 1, 16, NULL, 1, &loss, NULL), RLHF_ERR_INVALID_ARGUMENT, "odd");
    int32_t pad[32];
    for (int i = 0; i < 32; i++) pad[i] = i % 16 < 8 ? 0 : 1; /* left padding */
    float ratings[2] = {1, 2};
    EXPECT(rlhf_reward_loss(f->model, "regression", f->tokens, pad, 2, 16, ratings, 1, &loss, NULL), RLHF_ERR_INVALID_ARGUMENT, "not right-padded");
    int32_t prompt_length = 16;
    EXPECT(rlhf_dpo_loss(f->model, f->model, "sigmoid", 0.1, 0, f->tokens, NULL, &prompt_length, 1, 16, 1, &loss, NULL),
           RLHF_ERR_INVALID_ARGUMENT, "prompt_lengths[0] = 16");
    int32_t same_rows[32];
    for (int i = 0; i < 32; i++) same_rows[i] = f->tokens[i % 16];
    prompt_length = 4;
    EXPECT(rlhf_dpo_loss(f->model, f->model, "sigmoid", 0.1, 0, same_rows, NULL, &prompt_length, 1, 16, 1, &loss, NULL),
           RLHF_ERR_INVALID_ARGUMENT, "separate, frozen copy");
    float buffer[4];
    EXPECT(rlhf_buffer_read(f->model, RLHF_BUFFER_GRADIENTS, 2, buffer, 16), RLHF_ERR_INVALID_ARGUMENT, "multiples of 4");
    EXPECT(rlhf_buffer_read(f->model, 7, 0, buffer, 16), RLHF_ERR_INVALID_ARGUMENT, "which = 7");
    rlhf_buffers buffers;
    MUST(rlhf_model_buffers(f->model, &buffers));
    EXPECT(rlhf_buffer_write(f->model, RLHF_BUFFER_PARAMETERS, buffers.bytes - 8, buffer, 16), RLHF_ERR_INVALID_ARGUMENT, "outside");
    rlhf_tensor_info info;
    int32_t count;
    MUST(rlhf_model_tensor_count(f->model, &count));
    EXPECT(rlhf_model_tensor_info(f->model, count, &info), RLHF_ERR_INVALID_ARGUMENT, "outside the tensor table");
    rlhf_model_config bad = {.vocab_size = 260, .max_seq_len = 64, .num_layers = 1, .num_heads = 3, .channels = 64};
    rlhf_model *m;
    EXPECT(rlhf_model_create(f->cpu, &bad, 0, 1, &m), RLHF_ERR_INVALID_ARGUMENT, "Channels (64) must be a positive multiple of NumHeads (3)");
    bad.num_heads = 1;
    EXPECT(rlhf_model_create(f->cpu, &bad, 4, 1, &m), RLHF_ERR_INVALID_ARGUMENT, "heads = 4");
}

static void write_file(const char *path, const void *data, size_t size)
{
    FILE *file = fopen(path, "wb");
    if (!file || fwrite(data, 1, size, file) != size) {
        printf("FAIL %s: cannot write %s\n", g_case, path);
        exit(1);
    }
    fclose(file);
}

static void case_corrupt_checkpoint(fixture *f)
{
    char dir[] = "/tmp/rlhf_error_paths_XXXXXX", good[64], cut[64], junk[64], bin[64], under_file[96];
    if (!mkdtemp(dir)) {
        printf("FAIL %s: mkdtemp\n", g_case);
        g_failed = 1;
        return;
    }
    snprintf(good, sizeof good, "%s/good.safetensors", dir);
    snprintf(cut, sizeof cut, "%s/cut.safetensors", dir);
    snprintf(junk, sizeof junk, "%s/junk.safetensors", dir);
    snprintf(bin, sizeof bin, "%s/junk.bin", dir);
    snprintf(under_file, sizeof under_file, "%s/model.safetensors", good); /* a folder that is a file */
    MUST(rlhf_model_save(f->model, good));
    /* The saved file, cut short: the header promises bytes the file lacks. */
    FILE *in = fopen(good, "rb");
    static char bytes[1 << 20];
    size_t size = in ? fread(bytes, 1, sizeof bytes, in) : 0;
    if (in) fclose(in);
    write_file(cut, bytes, size / 2);
    /* A header length far larger than the file, then text. */
    const char garbage[] = "\xff\xff\xff\xff\xff\x00\x00\x00{not json";
    write_file(junk, garbage, sizeof garbage - 1);
    write_file(bin, garbage, sizeof garbage - 1);
    rlhf_model *m = NULL;
    EXPECT(rlhf_model_load(f->cpu, cut, 0, 1, &m), RLHF_ERR_IO, "cut.safetensors");
    EXPECT(rlhf_model_load(f->cpu, junk, 0, 1, &m), RLHF_ERR_IO, "junk.safetensors");
    EXPECT(rlhf_model_load(f->cpu, bin, 0, 1, &m), RLHF_ERR_IO, "junk.bin");
    EXPECT(rlhf_model_load(f->cpu, "/nonexistent/model.safetensors", 0, 1, &m), RLHF_ERR_IO, "not found");
    EXPECT(rlhf_model_save(f->model, under_file), RLHF_ERR_IO, NULL);
    EXPECT(rlhf_model_save(f->model, bin), RLHF_ERR_INVALID_ARGUMENT, "save it as .safetensors");
    if (m) printf("FAIL %s: a failed load wrote a handle\n", g_case), g_failed = 1;
    /* The good file still loads. */
    MUST(rlhf_model_load(f->cpu, good, 0, 1, &m));
    MUST(rlhf_model_destroy(m));
    remove(good), remove(cut), remove(junk), remove(bin), rmdir(dir);
}

static void case_unknown_names(fixture *f)
{
    rlhf_optimizer *o;
    rlhf_backend *b;
    rlhf_model *m;
    rlhf_tokenizer *t;
    double loss;
    EXPECT(rlhf_optimizer_create(f->model, "rmsprop", NULL, &o), RLHF_ERR_INVALID_ARGUMENT, "unknown optimizer 'rmsprop': the engine has adamw, sgd, lion, muon, adafactor");
    EXPECT(rlhf_optimizer_create(f->model, "adamw", "beta1=0.9,momentum=0.5", &o), RLHF_ERR_INVALID_ARGUMENT, "unknown adamw setting 'momentum'");
    EXPECT(rlhf_optimizer_create(f->model, "adamw", "beta2=2", &o), RLHF_ERR_INVALID_ARGUMENT, "beta2 must be in [0, 1)");
    EXPECT(rlhf_optimizer_create(f->model, "adamw", "eps", &o), RLHF_ERR_INVALID_ARGUMENT, "not key=value");
    EXPECT(rlhf_backend_create("tpu", 1, &b), RLHF_ERR_INVALID_ARGUMENT, "unknown device 'tpu'");
    EXPECT(rlhf_model_create_preset(f->cpu, "gpt5", 0, 1, &m), RLHF_ERR_INVALID_ARGUMENT, "unknown model config 'gpt5'");
    EXPECT(rlhf_tokenizer_create("sentencepiece", NULL, &t), RLHF_ERR_INVALID_ARGUMENT, "unknown tokenizer");
    EXPECT(rlhf_tokenizer_create("gpt2", NULL, &t), RLHF_ERR_INVALID_ARGUMENT, "vocab.json");
    EXPECT(rlhf_tokenizer_create("gpt2", "/nonexistent", &t), RLHF_ERR_IO, "vocab.json");
    EXPECT(rlhf_reward_loss(f->model, "hinge", f->tokens, NULL, 2, 16, NULL, 1, &loss, NULL), RLHF_ERR_INVALID_ARGUMENT, "unknown reward loss 'hinge'");
    int32_t prompt_length = 4;
    EXPECT(rlhf_dpo_loss(f->model, f->model, "kto", 0.1, 0, f->tokens, NULL, &prompt_length, 1, 16, 1, &loss, NULL),
           RLHF_ERR_INVALID_ARGUMENT, "unknown DPO loss 'kto'");
    /* CUDA: a clear status where no GPU is usable; where one is, the backend works. */
    rlhf_status cuda = rlhf_backend_create("cuda", 0, &b);
    if (cuda == RLHF_OK)
        MUST(rlhf_backend_destroy(b));
    else
        EXPECT(cuda, RLHF_ERR_UNAVAILABLE, "CUDA is not available");
}

static void case_buffer_too_small(fixture *f)
{
    (void)f;
    rlhf_tokenizer *t;
    MUST(rlhf_tokenizer_create("byte", NULL, &t));
    int32_t ids[4], count = 0, length = 0;
    EXPECT(rlhf_tokenize(t, "hello, world", ids, 4, &count), RLHF_ERR_BUFFER_TOO_SMALL, "12 tokens");
    if (count != 12) printf("FAIL %s: count %d, expected 12\n", g_case, (int)count), g_failed = 1;
    EXPECT(rlhf_tokenize(t, "hello, world", NULL, 0, &count), RLHF_ERR_BUFFER_TOO_SMALL, NULL);
    char text[4];
    int32_t word[5] = {'h', 'e', 'l', 'l', 'o'};
    EXPECT(rlhf_detokenize(t, word, 5, text, sizeof text, &length), RLHF_ERR_BUFFER_TOO_SMALL, "5 bytes");
    if (length != 5) printf("FAIL %s: length %d, expected 5\n", g_case, (int)length), g_failed = 1;
    word[2] = 9999;
    EXPECT(rlhf_detokenize(t, word, 5, text, sizeof text, &length), RLHF_ERR_INVALID_ARGUMENT, "ids[2] = 9999");
    MUST(rlhf_tokenizer_destroy(t));
}

static void case_non_finite(fixture *f)
{
    rlhf_optimizer *o;
    MUST(rlhf_optimizer_create(f->model, "adamw", NULL, &o));
    float before[8], after[8], nan_values[8], norm = 0;
    for (int i = 0; i < 8; i++) nan_values[i] = NAN;
    MUST(rlhf_buffer_read(f->model, RLHF_BUFFER_PARAMETERS, 0, before, sizeof before));
    MUST(rlhf_buffer_write(f->model, RLHF_BUFFER_GRADIENTS, 0, nan_values, sizeof nan_values));
    EXPECT(rlhf_optimizer_step(o, 1e-3f, 1.0f, &norm), RLHF_ERR_NON_FINITE, "no update was made");
    MUST(rlhf_buffer_read(f->model, RLHF_BUFFER_PARAMETERS, 0, after, sizeof after));
    if (memcmp(before, after, sizeof before) != 0 || !isnan(norm))
        printf("FAIL %s: a non-finite step changed the parameters or hid the norm\n", g_case), g_failed = 1;
    EXPECT(rlhf_optimizer_step(o, -1.0f, 0, NULL), RLHF_ERR_INVALID_ARGUMENT, "lr must be");
    MUST(rlhf_optimizer_destroy(o));
}

static void case_destroy_order(fixture *f)
{
    rlhf_optimizer *o;
    MUST(rlhf_optimizer_create(f->model, "adamw", NULL, &o));
    EXPECT(rlhf_backend_destroy(f->cpu), RLHF_ERR_INVALID_ARGUMENT, "1 live model(s)");
    EXPECT(rlhf_model_destroy(f->model), RLHF_ERR_INVALID_ARGUMENT, "1 live optimizer(s)");
    MUST(rlhf_optimizer_destroy(o));
    MUST(rlhf_model_destroy(f->model));
    MUST(rlhf_backend_destroy(f->cpu));
}

static void *fail_on_other_thread(void *arg)
{
    (void)arg;
    rlhf_backend *b;
    rlhf_backend_create("tpu", 1, &b);
    return strstr(rlhf_last_error(), "tpu") ? (void *)1 : NULL;
}

static void case_errors_per_thread(fixture *f)
{
    MUST(rlhf_model_zero_grad(f->model));
    pthread_t thread;
    void *saw_its_own = NULL;
    pthread_create(&thread, NULL, fail_on_other_thread, NULL);
    pthread_join(thread, &saw_its_own);
    if (!saw_its_own) printf("FAIL %s: the other thread did not see its own error\n", g_case), g_failed = 1;
    if (rlhf_last_error()[0] != '\0') printf("FAIL %s: another thread's error leaked here: %s\n", g_case, rlhf_last_error()), g_failed = 1;
    /* A success clears this thread's message. */
    EXPECT(rlhf_model_zero_grad(NULL), RLHF_ERR_BAD_HANDLE, NULL);
    MUST(rlhf_model_zero_grad(f->model));
}

typedef struct test_case {
    const char *name;
    void (*run)(fixture *);
    int first; /* must run before anything else in the process started the runtime: no set_up */
} test_case;

static const test_case CASES[] = {
    {"bad_managed_dir", case_bad_managed_dir, 1}, {"before_init", case_before_init, 0},
    {"second_shutdown", case_second_shutdown, 0}, {"bad_handle", case_bad_handle, 0},
    {"null_pointers", case_null_pointers, 0},     {"wrong_shapes", case_wrong_shapes, 0},
    {"corrupt_checkpoint", case_corrupt_checkpoint, 0}, {"unknown_names", case_unknown_names, 0},
    {"buffer_too_small", case_buffer_too_small, 0}, {"non_finite", case_non_finite, 0},
    {"destroy_order", case_destroy_order, 0},     {"errors_per_thread", case_errors_per_thread, 0},
};
enum { N_CASES = sizeof CASES / sizeof CASES[0] };

static int g_started; /* a case has run in this process, so the runtime is bound */

static int run_case(const test_case *c)
{
    fixture f;
    g_case = c->name;
    g_failed = 0;
    if (c->first && g_started) {
        printf("FAIL %s: it must be the first case of its process\n", c->name);
        return 1;
    }
    g_started = 1;
    if (!c->first) set_up(&f);
    if (!g_failed) c->run(&f);
    MUST(rlhf_shutdown());
    if (!g_failed) printf("ok %s\n", c->name);
    return g_failed;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: rlhf_error_paths all | list | CASE...\n");
        return 2;
    }
    int failures = 0;
    for (int a = 1; a < argc; a++) {
        int found = 0;
        for (int i = 0; i < N_CASES; i++) {
            if (!strcmp(argv[a], "list")) {
                printf("%s\n", CASES[i].name), found = 1;
            } else if (!strcmp(argv[a], "all") || !strcmp(argv[a], CASES[i].name)) {
                failures += run_case(&CASES[i]);
                found = 1;
            }
        }
        if (!found) {
            fprintf(stderr, "unknown case %s\n", argv[a]);
            return 2;
        }
    }
    return failures ? 1 : 0;
}
