/* api.c: the public functions of rlhfcore.h. Each checks that the engine is bound, calls its managed
 * entry point, and records the error text for rlhf_last_error(). */
#include "shim.h"

#define RLHF_CALL(slot, name, ...)                                                                              \
    do {                                                                                                        \
        if (!rlhf_shim_ready())                                                                                 \
            return rlhf_shim_fail(RLHF_ERR_NOT_INITIALIZED, "%s: call rlhf_init first (or again after rlhf_shutdown)", name); \
        return rlhf_shim_finish(rlhf_shim_exports.slot(__VA_ARGS__));                                           \
    } while (0)

rlhf_status rlhf_backend_create(const char *device, int32_t threads, rlhf_backend **out)
{ RLHF_CALL(backend_create, "rlhf_backend_create", device, threads, out); }

rlhf_status rlhf_backend_destroy(rlhf_backend *backend)
{ RLHF_CALL(backend_destroy, "rlhf_backend_destroy", backend); }

rlhf_status rlhf_backend_synchronize(rlhf_backend *backend)
{ RLHF_CALL(backend_synchronize, "rlhf_backend_synchronize", backend); }

rlhf_status rlhf_model_create_preset(rlhf_backend *backend, const char *preset, uint32_t heads, uint64_t seed, rlhf_model **out)
{ RLHF_CALL(model_create_preset, "rlhf_model_create_preset", backend, preset, heads, seed, out); }

rlhf_status rlhf_model_create(rlhf_backend *backend, const rlhf_model_config *config, uint32_t heads, uint64_t seed, rlhf_model **out)
{ RLHF_CALL(model_create, "rlhf_model_create", backend, config, heads, seed, out); }

rlhf_status rlhf_model_load(rlhf_backend *backend, const char *path, uint32_t extra_heads, uint64_t seed, rlhf_model **out)
{ RLHF_CALL(model_load, "rlhf_model_load", backend, path, extra_heads, seed, out); }

rlhf_status rlhf_model_save(rlhf_model *model, const char *path)
{ RLHF_CALL(model_save, "rlhf_model_save", model, path); }

rlhf_status rlhf_model_clone(rlhf_model *model, rlhf_model **out)
{ RLHF_CALL(model_clone, "rlhf_model_clone", model, out); }

rlhf_status rlhf_model_destroy(rlhf_model *model)
{ RLHF_CALL(model_destroy, "rlhf_model_destroy", model); }

rlhf_status rlhf_model_get_config(rlhf_model *model, rlhf_model_config *config, uint32_t *heads)
{ RLHF_CALL(model_get_config, "rlhf_model_get_config", model, config, heads); }

rlhf_status rlhf_model_forward(rlhf_model *model, const int32_t *tokens, const int32_t *attention_mask, int32_t batch,
                               int32_t seq_len, float *logits)
{ RLHF_CALL(model_forward, "rlhf_model_forward", model, tokens, attention_mask, batch, seq_len, logits); }

rlhf_status rlhf_model_zero_grad(rlhf_model *model)
{ RLHF_CALL(model_zero_grad, "rlhf_model_zero_grad", model); }

rlhf_status rlhf_sft_loss(rlhf_model *model, const int32_t *tokens, const int32_t *targets, const int32_t *attention_mask,
                          int32_t batch, int32_t seq_len, int32_t grad_accum_steps, int32_t backward, double *loss)
{ RLHF_CALL(sft_loss, "rlhf_sft_loss", model, tokens, targets, attention_mask, batch, seq_len, grad_accum_steps, backward, loss); }

rlhf_status rlhf_reward_loss(rlhf_model *model, const char *loss_name, const int32_t *tokens, const int32_t *attention_mask,
                             int32_t rows, int32_t seq_len, const float *values, int32_t backward, double *loss, float *scores)
{ RLHF_CALL(reward_loss, "rlhf_reward_loss", model, loss_name, tokens, attention_mask, rows, seq_len, values, backward, loss, scores); }

rlhf_status rlhf_dpo_loss(rlhf_model *policy, rlhf_model *reference, const char *loss_name, double beta, double label_smoothing,
                          const int32_t *tokens, const int32_t *attention_mask, const int32_t *prompt_lengths, int32_t pairs,
                          int32_t seq_len, int32_t backward, double *loss, rlhf_dpo_metrics *metrics)
{
    RLHF_CALL(dpo_loss, "rlhf_dpo_loss", policy, reference, loss_name, beta, label_smoothing, tokens, attention_mask,
              prompt_lengths, pairs, seq_len, backward, loss, metrics);
}

rlhf_status rlhf_optimizer_create(rlhf_model *model, const char *name, const char *settings, rlhf_optimizer **out)
{ RLHF_CALL(optimizer_create, "rlhf_optimizer_create", model, name, settings, out); }

rlhf_status rlhf_optimizer_step(rlhf_optimizer *optimizer, float lr, float grad_clip, float *grad_norm)
{ RLHF_CALL(optimizer_step, "rlhf_optimizer_step", optimizer, lr, grad_clip, grad_norm); }

rlhf_status rlhf_optimizer_destroy(rlhf_optimizer *optimizer)
{ RLHF_CALL(optimizer_destroy, "rlhf_optimizer_destroy", optimizer); }

rlhf_status rlhf_generate(rlhf_model *model, const int32_t *prompts, const int32_t *prompt_lengths, int32_t batch,
                          int32_t prompt_stride, const rlhf_sampling *sampling, int32_t *out_tokens, int32_t *out_lengths)
{ RLHF_CALL(generate, "rlhf_generate", model, prompts, prompt_lengths, batch, prompt_stride, sampling, out_tokens, out_lengths); }

rlhf_status rlhf_tokenizer_create(const char *name, const char *dir, rlhf_tokenizer **out)
{ RLHF_CALL(tokenizer_create, "rlhf_tokenizer_create", name, dir, out); }

rlhf_status rlhf_tokenizer_destroy(rlhf_tokenizer *tokenizer)
{ RLHF_CALL(tokenizer_destroy, "rlhf_tokenizer_destroy", tokenizer); }

rlhf_status rlhf_tokenizer_info(rlhf_tokenizer *tokenizer, int32_t *vocab_size, int32_t *end_of_text)
{ RLHF_CALL(tokenizer_info, "rlhf_tokenizer_info", tokenizer, vocab_size, end_of_text); }

rlhf_status rlhf_tokenize(rlhf_tokenizer *tokenizer, const char *text, int32_t *ids, int32_t capacity, int32_t *count)
{ RLHF_CALL(tokenize, "rlhf_tokenize", tokenizer, text, ids, capacity, count); }

rlhf_status rlhf_detokenize(rlhf_tokenizer *tokenizer, const int32_t *ids, int32_t count, char *text, int32_t capacity, int32_t *length)
{ RLHF_CALL(detokenize, "rlhf_detokenize", tokenizer, ids, count, text, capacity, length); }

rlhf_status rlhf_model_tensor_count(rlhf_model *model, int32_t *count)
{ RLHF_CALL(model_tensor_count, "rlhf_model_tensor_count", model, count); }

rlhf_status rlhf_model_tensor_info(rlhf_model *model, int32_t index, rlhf_tensor_info *info)
{ RLHF_CALL(model_tensor_info, "rlhf_model_tensor_info", model, index, info); }

rlhf_status rlhf_model_buffers(rlhf_model *model, rlhf_buffers *buffers)
{ RLHF_CALL(model_buffers, "rlhf_model_buffers", model, buffers); }

rlhf_status rlhf_buffer_read(rlhf_model *model, int32_t which, int64_t offset, void *dst, int64_t bytes)
{ RLHF_CALL(buffer_read, "rlhf_buffer_read", model, which, offset, dst, bytes); }

rlhf_status rlhf_buffer_write(rlhf_model *model, int32_t which, int64_t offset, const void *src, int64_t bytes)
{ RLHF_CALL(buffer_write, "rlhf_buffer_write", model, which, offset, src, bytes); }
