/* exports.h: the managed entry points the shim binds, one line each:
 *   X(slot, managed class in RlhfCore.Embedding, method, parameter list)
 * Every entry point returns an rlhf_status as int32_t. The managed signatures are in
 * src/RlhfCore/Embedding/<Class>.cs; rlhf_init binds them all by name and fails naming any it misses. */
#ifndef RLHF_EXPORTS_H
#define RLHF_EXPORTS_H

#include "rlhfcore.h"

#define RLHF_EXPORTS(X)                                                                                          \
    X(initialize, RuntimeExports, Initialize, (int32_t, const int32_t *, int32_t))                               \
    X(shutdown, RuntimeExports, Shutdown, (void))                                                                \
    X(copy_last_error, RuntimeExports, CopyLastError, (char *, int32_t))                                         \
    X(backend_create, BackendExports, Create, (const char *, int32_t, rlhf_backend **))                          \
    X(backend_destroy, BackendExports, Destroy, (rlhf_backend *))                                                \
    X(backend_synchronize, BackendExports, Synchronize, (rlhf_backend *))                                        \
    X(model_create_preset, ModelExports, CreatePreset, (rlhf_backend *, const char *, uint32_t, uint64_t, rlhf_model **)) \
    X(model_create, ModelExports, Create, (rlhf_backend *, const rlhf_model_config *, uint32_t, uint64_t, rlhf_model **)) \
    X(model_load, ModelExports, Load, (rlhf_backend *, const char *, uint32_t, uint64_t, rlhf_model **))         \
    X(model_save, ModelExports, Save, (rlhf_model *, const char *))                                              \
    X(model_clone, ModelExports, Clone, (rlhf_model *, rlhf_model **))                                           \
    X(model_destroy, ModelExports, Destroy, (rlhf_model *))                                                      \
    X(model_get_config, ModelExports, GetConfig, (rlhf_model *, rlhf_model_config *, uint32_t *))                \
    X(model_forward, ForwardExports, Forward, (rlhf_model *, const int32_t *, const int32_t *, int32_t, int32_t, float *)) \
    X(model_zero_grad, ForwardExports, ZeroGrad, (rlhf_model *))                                                 \
    X(sft_loss, SftExports, Loss,                                                                                \
      (rlhf_model *, const int32_t *, const int32_t *, const int32_t *, int32_t, int32_t, int32_t, int32_t, double *)) \
    X(reward_loss, RewardExports, Loss,                                                                          \
      (rlhf_model *, const char *, const int32_t *, const int32_t *, int32_t, int32_t, const float *, int32_t, double *, float *)) \
    X(dpo_loss, DpoExports, Loss,                                                                                \
      (rlhf_model *, rlhf_model *, const char *, double, double, const int32_t *, const int32_t *, const int32_t *, int32_t, \
       int32_t, int32_t, double *, rlhf_dpo_metrics *))                                                          \
    X(optimizer_create, OptimizerExports, Create, (rlhf_model *, const char *, const char *, rlhf_optimizer **))  \
    X(optimizer_step, OptimizerExports, Step, (rlhf_optimizer *, float, float, float *))                         \
    X(optimizer_destroy, OptimizerExports, Destroy, (rlhf_optimizer *))                                          \
    X(generate, GenerateExports, Generate,                                                                       \
      (rlhf_model *, const int32_t *, const int32_t *, int32_t, int32_t, const rlhf_sampling *, int32_t *, int32_t *)) \
    X(tokenizer_create, TokenizerExports, Create, (const char *, const char *, rlhf_tokenizer **))               \
    X(tokenizer_destroy, TokenizerExports, Destroy, (rlhf_tokenizer *))                                          \
    X(tokenizer_info, TokenizerExports, Info, (rlhf_tokenizer *, int32_t *, int32_t *))                          \
    X(tokenize, TokenizerExports, Tokenize, (rlhf_tokenizer *, const char *, int32_t *, int32_t, int32_t *))     \
    X(detokenize, TokenizerExports, Detokenize, (rlhf_tokenizer *, const int32_t *, int32_t, char *, int32_t, int32_t *)) \
    X(model_tensor_count, BufferExports, TensorCount, (rlhf_model *, int32_t *))                                 \
    X(model_tensor_info, BufferExports, TensorInfo, (rlhf_model *, int32_t, rlhf_tensor_info *))                 \
    X(model_buffers, BufferExports, Buffers, (rlhf_model *, rlhf_buffers *))                                     \
    X(buffer_read, BufferExports, Read, (rlhf_model *, int32_t, int64_t, void *, int64_t))                       \
    X(buffer_write, BufferExports, Write, (rlhf_model *, int32_t, int64_t, const void *, int64_t))

/* The table of bound entry points. */
typedef struct rlhf_exports {
#define RLHF_SLOT(slot, cls, method, params) int32_t(*slot) params;
    RLHF_EXPORTS(RLHF_SLOT)
#undef RLHF_SLOT
} rlhf_exports;

#endif
