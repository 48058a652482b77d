/* rlhfcore.h: the C API of RlhfCore, a GPT-2-architecture RLHF training engine.
 *
 * librlhfcore.so hosts the .NET runtime (nethost/hostfxr) and calls the engine's managed entry points;
 * the managed assemblies (RlhfCore.dll and its dependencies) lie beside the library.
 *
 * Conventions (the README's embedding guide has the full text):
 *  - Every function but rlhf_api_version and rlhf_last_error returns an rlhf_status; RLHF_OK is 0. On
 *    failure rlhf_last_error() gives the message, per thread; a successful call leaves it empty. No .NET
 *    exception crosses the API. NULL pointers are checked; an array pointer that is not NULL must point
 *    to as many elements as the call's dimensions say.
 *  - Handles are opaque. A handle is valid from the call that creates it until its destroy call (or
 *    rlhf_shutdown); a stale, destroyed or foreign handle gives RLHF_ERR_BAD_HANDLE, never a crash.
 *  - Arrays are row-major and owned by the caller; the library never keeps a caller's pointer after a
 *    call returns. Strings are UTF-8, NUL-terminated.
 *  - Calls on one backend and everything created on it are serialized by the library (one lock per
 *    backend); different backends run in parallel. Tokenizers are lock-free and thread-safe.
 */
#ifndef RLHFCORE_H
#define RLHFCORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The API version this header describes. rlhf_init fails when the library's differs. */
#define RLHF_API_VERSION 1

#if defined(_WIN32)
#define RLHF_EXPORT __declspec(dllexport)
#else
#define RLHF_EXPORT __attribute__((visibility("default")))
#endif

typedef enum rlhf_status {
    RLHF_OK = 0,
    RLHF_ERR_INVALID_ARGUMENT = 1, /* a null pointer, a wrong shape, an out-of-range value, an unknown name */
    RLHF_ERR_BAD_HANDLE = 2,       /* null, destroyed, or of another kind */
    RLHF_ERR_NOT_INITIALIZED = 3,  /* rlhf_init has not succeeded, or rlhf_shutdown ran */
    RLHF_ERR_UNAVAILABLE = 4,      /* the device is not available here (for example CUDA without a GPU) */
    RLHF_ERR_IO = 5,               /* a missing, unreadable or malformed file (checkpoint, tokenizer) */
    RLHF_ERR_BUFFER_TOO_SMALL = 6, /* an output buffer is too small; the call reports the size it needs */
    RLHF_ERR_OUT_OF_MEMORY = 7,
    RLHF_ERR_RUNTIME = 8,          /* the .NET runtime could not be found, started or bound */
    RLHF_ERR_NON_FINITE = 9,       /* a loss or gradient norm is NaN or infinite; nothing was updated */
    RLHF_ERR_INTERNAL = 10         /* a bug: the message says where */
} rlhf_status;

typedef struct rlhf_backend rlhf_backend;
typedef struct rlhf_model rlhf_model;
typedef struct rlhf_optimizer rlhf_optimizer;
typedef struct rlhf_tokenizer rlhf_tokenizer;

/* ---- runtime ---------------------------------------------------------------------------------- */

/* The API version of the loaded library (compare with RLHF_API_VERSION). Needs no rlhf_init. */
RLHF_EXPORT int32_t rlhf_api_version(void);

/* The message of the last failed call on this thread ("" after a successful one). Valid until the
 * next call on this thread. Needs no rlhf_init. */
RLHF_EXPORT const char *rlhf_last_error(void);

/* Starts the .NET runtime and binds the engine. api_version: pass RLHF_API_VERSION. managed_dir: the
 * folder holding RlhfCore.dll and RlhfCore.runtimeconfig.json, or NULL for librlhfcore.so's own folder;
 * the first successful call's folder serves the whole process. Calling it again while initialized is
 * harmless (RLHF_OK). Call it, and rlhf_shutdown, while no other thread is inside the API. */
RLHF_EXPORT rlhf_status rlhf_init(int32_t api_version, const char *managed_dir);

/* Destroys every live handle and unbinds the engine. A second call is harmless (RLHF_OK). The .NET
 * runtime itself stays loaded in the process (it cannot be unloaded); rlhf_init may be called again. */
RLHF_EXPORT rlhf_status rlhf_shutdown(void);

/* ---- backends --------------------------------------------------------------------------------- */

/* device: "cpu", "cuda" (device 0) or "cuda:N". threads: CPU worker threads, 0 = all cores (ignored
 * on CUDA). Without a usable GPU, "cuda" gives RLHF_ERR_UNAVAILABLE with the reason. */
RLHF_EXPORT rlhf_status rlhf_backend_create(const char *device, int32_t threads, rlhf_backend **out);

/* Fails with RLHF_ERR_INVALID_ARGUMENT while models or optimizers created on it are alive. */
RLHF_EXPORT rlhf_status rlhf_backend_destroy(rlhf_backend *backend);

/* Waits for the backend's queued work (a no-op on the CPU). */
RLHF_EXPORT rlhf_status rlhf_backend_synchronize(rlhf_backend *backend);

/* ---- models ----------------------------------------------------------------------------------- */

typedef struct rlhf_model_config {
    int32_t vocab_size;
    int32_t max_seq_len;
    int32_t num_layers;
    int32_t num_heads;
    int32_t channels; /* a multiple of num_heads */
} rlhf_model_config;

/* Heads besides the LM head, or-ed together. */
#define RLHF_HEAD_VALUE 1u
#define RLHF_HEAD_REWARD 2u

/* A fresh model with GPT-2's initialization from seed. preset: gpt2-124m, gpt2-350m, gpt2-774m,
 * gpt2-1558m, byte-tiny, byte-small, byte-medium. */
RLHF_EXPORT rlhf_status rlhf_model_create_preset(rlhf_backend *backend, const char *preset, uint32_t heads,
                                                 uint64_t seed, rlhf_model **out);
RLHF_EXPORT rlhf_status rlhf_model_create(rlhf_backend *backend, const rlhf_model_config *config, uint32_t heads,
                                          uint64_t seed, rlhf_model **out);

/* Loads a checkpoint: safetensors in Hugging Face GPT-2 layout (with its heads), or an llm.c GPT-2 .bin.
 * extra_heads the file lacks are initialized from seed. */
RLHF_EXPORT rlhf_status rlhf_model_load(rlhf_backend *backend, const char *path, uint32_t extra_heads, uint64_t seed,
                                        rlhf_model **out);

/* Saves atomically: a path ending in .bin is written as an llm.c checkpoint (which holds the LM only, so a
 * model with a value or reward head is refused), anything else as safetensors in Hugging Face GPT-2
 * layout with the heads. */
RLHF_EXPORT rlhf_status rlhf_model_save(rlhf_model *model, const char *path);

/* A separate model with the same architecture, heads and parameter values (for example a frozen DPO
 * reference). Gradients start at zero. */
RLHF_EXPORT rlhf_status rlhf_model_clone(rlhf_model *model, rlhf_model **out);

RLHF_EXPORT rlhf_status rlhf_model_destroy(rlhf_model *model);

/* heads may be NULL. */
RLHF_EXPORT rlhf_status rlhf_model_get_config(rlhf_model *model, rlhf_model_config *config, uint32_t *heads);

/* ---- forward, losses, backward ----------------------------------------------------------------
 * tokens and attention_mask are [batch, seq_len]; every id, padding included, must be in [0, vocab_size);
 * attention_mask is 1 for real tokens and 0 for padding (NULL: every token is real). Positions count real tokens only, so a padded row computes what it would
 * alone. seq_len must not exceed the model's max_seq_len. Backward passes accumulate (+=) into the
 * model's gradients; rlhf_model_zero_grad clears them. */

/* logits: [batch, seq_len, vocab_size] floats, written. */
RLHF_EXPORT rlhf_status rlhf_model_forward(rlhf_model *model, const int32_t *tokens, const int32_t *attention_mask,
                                           int32_t batch, int32_t seq_len, float *logits);

RLHF_EXPORT rlhf_status rlhf_model_zero_grad(rlhf_model *model);

/* Next-token cross-entropy. targets: [batch, seq_len], the token each position predicts, -1 where no
 * loss is taken. loss: the mean over counted targets (NaN when none counts). With backward != 0, the
 * gradient of loss / grad_accum_steps is accumulated, so grad_accum_steps micro-batches give the mean of
 * their losses' gradients (pass 1 without accumulation). */
RLHF_EXPORT rlhf_status rlhf_sft_loss(rlhf_model *model, const int32_t *tokens, const int32_t *targets,
                                      const int32_t *attention_mask, int32_t batch, int32_t seq_len,
                                      int32_t grad_accum_steps, int32_t backward, double *loss);

/* Reward-model loss on a model with RLHF_HEAD_REWARD; rows must be right-padded (the score is read at each
 * row's last real token). loss_name and values:
 *   "bradley-terry": rows are pairs [chosen0, rejected0, chosen1, ...]; values: one margin per pair or NULL;
 *   "regression":    values: one rating per row;   "logistic": values: one 0/1 label per row.
 * scores: [rows], written, or NULL. loss: the mean over pairs or rows. With backward != 0, a NaN or
 * infinite loss gives RLHF_ERR_NON_FINITE (loss still written) and accumulates no gradient. */
RLHF_EXPORT rlhf_status rlhf_reward_loss(rlhf_model *model, const char *loss_name, const int32_t *tokens,
                                         const int32_t *attention_mask, int32_t rows, int32_t seq_len,
                                         const float *values, int32_t backward, double *loss, float *scores);

/* DPO-family loss of policy against a frozen reference (same architecture and backend, another handle).
 * tokens: [2 * pairs, seq_len] full sequences [prompt | completion], right-padded: rows 0..pairs-1 chosen,
 * rows pairs..2*pairs-1 rejected; attention_mask gives each row's length; prompt_lengths: [pairs], the
 * prompt both completions of a pair share (its tokens must be equal in both rows). Only completion tokens
 * are scored. loss_name: "sigmoid" (DPO, with label_smoothing in [0, 0.5)) or "ipo" (label_smoothing 0).
 * metrics (may be NULL) receives the means over the pairs, under TRL's names. */
typedef struct rlhf_dpo_metrics {
    double loss;
    double rewards_chosen;   /* beta * (log pi(chosen) - log ref(chosen)) */
    double rewards_rejected;
    double rewards_accuracy; /* fraction of pairs whose chosen reward is strictly larger */
    double rewards_margin;
    double logps_chosen;     /* the policy's completion log-prob (per-token mean for ipo) */
    double logps_rejected;
} rlhf_dpo_metrics;

RLHF_EXPORT rlhf_status rlhf_dpo_loss(rlhf_model *policy, rlhf_model *reference, const char *loss_name, double beta,
                                      double label_smoothing, const int32_t *tokens, const int32_t *attention_mask,
                                      const int32_t *prompt_lengths, int32_t pairs, int32_t seq_len, int32_t backward,
                                      double *loss, rlhf_dpo_metrics *metrics);

/* ---- optimizers -------------------------------------------------------------------------------
 * name: "adamw", "sgd", "lion", "muon" or "adafactor" (other names give RLHF_ERR_INVALID_ARGUMENT). settings:
 * "key=value" pairs separated by commas or spaces, or NULL for the defaults. adamw: beta1 (0.9),
 * beta2 (0.95), eps (1e-8), weight_decay (0.1, on 2-D weights only). sgd: momentum (0.9), nesterov
 * (0 or 1; 0), weight_decay. lion: beta1 (0.9), beta2 (0.99), weight_decay. muon: momentum (0.95) for
 * the 2-D hidden weights, and adamw's keys for the other tensors, which AdamW updates. adafactor:
 * beta1 (0 = no first moment), decay_rate (0.8), clip_threshold (1), eps1 (1e-30), eps2 (1e-3),
 * scale_parameter (0 or 1; 0), relative_step (0 or 1; 0), weight_decay. An unknown key
 * is an error. The rules run on the cpu backend (and ILGPU's); the NVRTC cuda backend has adamw only. */
RLHF_EXPORT rlhf_status rlhf_optimizer_create(rlhf_model *model, const char *name, const char *settings,
                                              rlhf_optimizer **out);

/* One update at learning rate lr. grad_clip > 0 scales the gradients to at most that global L2 norm
 * (0 = off). grad_norm (may be NULL) receives the norm before clipping. A NaN or infinite norm gives
 * RLHF_ERR_NON_FINITE and leaves the parameters and the optimizer state untouched. */
RLHF_EXPORT rlhf_status rlhf_optimizer_step(rlhf_optimizer *optimizer, float lr, float grad_clip, float *grad_norm);

RLHF_EXPORT rlhf_status rlhf_optimizer_destroy(rlhf_optimizer *optimizer);

/* ---- generation ------------------------------------------------------------------------------- */

typedef struct rlhf_sampling {
    float temperature;      /* 0 = greedy */
    int32_t top_k;          /* 0 = off */
    float top_p;            /* 1 = off */
    int32_t max_new_tokens; /* >= 1 */
    int32_t eos_token;      /* a row stops after emitting it; -1 = never */
    uint64_t seed;          /* same seed, same tokens */
} rlhf_sampling;

/* prompts: [batch, prompt_stride], row b's first prompt_lengths[b] (>= 1) ids are its prompt.
 * out_tokens: [batch, max_new_tokens], written (unused places hold -1); out_lengths: [batch]. */
RLHF_EXPORT rlhf_status rlhf_generate(rlhf_model *model, const int32_t *prompts, const int32_t *prompt_lengths,
                                      int32_t batch, int32_t prompt_stride, const rlhf_sampling *sampling,
                                      int32_t *out_tokens, int32_t *out_lengths);

/* ---- tokenizers ------------------------------------------------------------------------------- */

/* name: "byte" (dir NULL) or "gpt2" (dir holds vocab.json and merges.txt). */
RLHF_EXPORT rlhf_status rlhf_tokenizer_create(const char *name, const char *dir, rlhf_tokenizer **out);
RLHF_EXPORT rlhf_status rlhf_tokenizer_destroy(rlhf_tokenizer *tokenizer);
/* vocab_size and end_of_text may be NULL. */
RLHF_EXPORT rlhf_status rlhf_tokenizer_info(rlhf_tokenizer *tokenizer, int32_t *vocab_size, int32_t *end_of_text);

/* Writes the ids of text into ids[0..capacity); count receives how many there are. When capacity is too
 * small, RLHF_ERR_BUFFER_TOO_SMALL and count holds the size needed (ids may be NULL to ask for it). */
RLHF_EXPORT rlhf_status rlhf_tokenize(rlhf_tokenizer *tokenizer, const char *text, int32_t *ids, int32_t capacity,
                                      int32_t *count);

/* Writes the UTF-8 text of ids and a NUL into text[0..capacity); length receives the byte count without
 * the NUL. When capacity is too small, RLHF_ERR_BUFFER_TOO_SMALL and length holds what is needed. */
RLHF_EXPORT rlhf_status rlhf_detokenize(rlhf_tokenizer *tokenizer, const int32_t *ids, int32_t count, char *text,
                                        int32_t capacity, int32_t *length);

/* ---- parameter and gradient buffers -----------------------------------------------------------
 * Parameters live in one buffer and their gradients in another with the same layout: tensor i starts at
 * byte offset[i] of each (64-byte aligned), fp32, row-major, shape as GPT-2 names it ([out, in] for
 * matmul weights). A host may read gradients and write parameters directly (its own optimizer). */

#define RLHF_MAX_RANK 4

typedef struct rlhf_tensor_info {
    const char *name;  /* Hugging Face GPT-2 name without "transformer."; valid while the model lives */
    int64_t offset;    /* bytes from the buffer's start */
    int64_t elements;
    int32_t rank;
    int32_t shape[RLHF_MAX_RANK];
} rlhf_tensor_info;

typedef struct rlhf_buffers {
    void *parameters; /* a host pointer on the CPU backend, a CUDA device pointer on CUDA */
    void *gradients;
    int64_t bytes;    /* size of each buffer, padding included */
    int32_t on_device; /* 1 when the pointers are device pointers: use rlhf_buffer_read/rlhf_buffer_write */
} rlhf_buffers;

RLHF_EXPORT rlhf_status rlhf_model_tensor_count(rlhf_model *model, int32_t *count);
RLHF_EXPORT rlhf_status rlhf_model_tensor_info(rlhf_model *model, int32_t index, rlhf_tensor_info *info);
RLHF_EXPORT rlhf_status rlhf_model_buffers(rlhf_model *model, rlhf_buffers *buffers);

#define RLHF_BUFFER_PARAMETERS 0
#define RLHF_BUFFER_GRADIENTS 1

/* Copies bytes between host memory and a model buffer at a byte offset (multiples of 4, in range). They
 * work on every backend and synchronize first. */
RLHF_EXPORT rlhf_status rlhf_buffer_read(rlhf_model *model, int32_t which, int64_t offset, void *dst, int64_t bytes);
RLHF_EXPORT rlhf_status rlhf_buffer_write(rlhf_model *model, int32_t which, int64_t offset, const void *src,
                                          int64_t bytes);

#ifdef __cplusplus
}
#endif

#endif /* RLHFCORE_H */
