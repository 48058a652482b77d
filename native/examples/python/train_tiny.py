#!/usr/bin/env python3
"""train_tiny.py: the C API from Python through ctypes, with no packages. It does what train_tiny.c does:
a fresh byte-tiny model learns one string by SFT for 50 AdamW steps, printing each step's loss (the same
numbers as train_tiny.c for the same seed and threads), then samples a continuation.

Usage: python3 train_tiny.py [--lib build/native/lib/librlhfcore.so] [--seed 1337] [--threads 2]
"""
import argparse
import ctypes as C
import os
import sys

TEXT = "To be embedded is to be called: a C host trains the model one step at a time."
STEPS, PROMPT, NEW_TOKENS, MAX_TOKENS = 50, 12, 48, 256
API_VERSION = 1  # RLHF_API_VERSION in native/include/rlhfcore.h


class Sampling(C.Structure):
    """rlhf_sampling."""
    _fields_ = [("temperature", C.c_float), ("top_k", C.c_int32), ("top_p", C.c_float),
                ("max_new_tokens", C.c_int32), ("eos_token", C.c_int32), ("seed", C.c_uint64)]


class RlhfError(RuntimeError):
    pass


def bind(path):
    """Loads librlhfcore.so and declares the functions this example calls (every one returns rlhf_status)."""
    lib = C.CDLL(path)
    handle, handle_out = C.c_void_p, C.POINTER(C.c_void_p)
    i32, i32p = C.c_int32, C.POINTER(C.c_int32)
    signatures = {
        "rlhf_init": [i32, C.c_char_p],
        "rlhf_shutdown": [],
        "rlhf_backend_create": [C.c_char_p, i32, handle_out],
        "rlhf_backend_destroy": [handle],
        "rlhf_model_create_preset": [handle, C.c_char_p, C.c_uint32, C.c_uint64, handle_out],
        "rlhf_model_destroy": [handle],
        "rlhf_model_zero_grad": [handle],
        "rlhf_sft_loss": [handle, i32p, i32p, i32p, i32, i32, i32, i32, C.POINTER(C.c_double)],
        "rlhf_optimizer_create": [handle, C.c_char_p, C.c_char_p, handle_out],
        "rlhf_optimizer_step": [handle, C.c_float, C.c_float, C.POINTER(C.c_float)],
        "rlhf_optimizer_destroy": [handle],
        "rlhf_generate": [handle, i32p, i32p, i32, i32, C.POINTER(Sampling), i32p, i32p],
        "rlhf_tokenizer_create": [C.c_char_p, C.c_char_p, handle_out],
        "rlhf_tokenizer_destroy": [handle],
        "rlhf_tokenize": [handle, C.c_char_p, i32p, i32, i32p],
        "rlhf_detokenize": [handle, i32p, i32, C.c_char_p, i32, i32p],
    }
    for name, args in signatures.items():
        f = getattr(lib, name)
        f.argtypes, f.restype = args, C.c_int
    lib.rlhf_last_error.argtypes, lib.rlhf_last_error.restype = [], C.c_char_p
    lib.rlhf_api_version.argtypes, lib.rlhf_api_version.restype = [], C.c_int32
    return lib


def check(lib, status, what):
    if status != 0:
        raise RlhfError(f"{what} failed (status {status}): {lib.rlhf_last_error().decode()}")


def detokenize(lib, tokenizer, ids):
    text, length = C.create_string_buffer(4 * len(ids) + 1), C.c_int32()
    check(lib, lib.rlhf_detokenize(tokenizer, ids, len(ids), text, len(text), C.byref(length)), "rlhf_detokenize")
    return text.value.decode()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_lib = os.path.join(here, "..", "..", "..", "build", "native", "lib", "librlhfcore.so")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lib", default=default_lib, help="path of librlhfcore.so (built by the README's cmake command)")
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    lib = bind(args.lib)
    if lib.rlhf_api_version() != API_VERSION:
        raise RlhfError(f"{args.lib} implements API version {lib.rlhf_api_version()}, this script {API_VERSION}")
    check(lib, lib.rlhf_init(API_VERSION, None), "rlhf_init")
    cpu, model, tokenizer, adamw = C.c_void_p(), C.c_void_p(), C.c_void_p(), C.c_void_p()
    check(lib, lib.rlhf_backend_create(b"cpu", args.threads, C.byref(cpu)), "rlhf_backend_create")
    check(lib, lib.rlhf_model_create_preset(cpu, b"byte-tiny", 0, args.seed, C.byref(model)), "rlhf_model_create_preset")
    check(lib, lib.rlhf_tokenizer_create(b"byte", None, C.byref(tokenizer)), "rlhf_tokenizer_create")
    check(lib, lib.rlhf_optimizer_create(model, b"adamw", b"weight_decay=0.0", C.byref(adamw)), "rlhf_optimizer_create")

    ids, n = (C.c_int32 * MAX_TOKENS)(), C.c_int32()
    check(lib, lib.rlhf_tokenize(tokenizer, TEXT.encode(), ids, MAX_TOKENS, C.byref(n)), "rlhf_tokenize")
    T = n.value - 1
    targets = C.cast(C.byref(ids, C.sizeof(C.c_int32)), C.POINTER(C.c_int32))  # ids shifted by one
    print(f"byte-tiny, seed {args.seed}, {args.threads} threads, {T} tokens")
    loss, norm = C.c_double(), C.c_float()
    for step in range(STEPS):
        check(lib, lib.rlhf_model_zero_grad(model), "rlhf_model_zero_grad")
        check(lib, lib.rlhf_sft_loss(model, ids, targets, None, 1, T, 1, 1, C.byref(loss)), "rlhf_sft_loss")
        check(lib, lib.rlhf_optimizer_step(adamw, C.c_float(3e-3), C.c_float(1.0), C.byref(norm)), "rlhf_optimizer_step")
        print("step %d loss %.17g" % (step, loss.value))  # as train_tiny.c prints it

    sampling = Sampling(temperature=0.8, top_k=40, top_p=0.95, max_new_tokens=NEW_TOKENS, eos_token=-1, seed=args.seed)
    out, length, prompt_length = (C.c_int32 * NEW_TOKENS)(), C.c_int32(), C.c_int32(PROMPT)
    check(lib, lib.rlhf_generate(model, ids, C.byref(prompt_length), 1, PROMPT, C.byref(sampling), out, C.byref(length)), "rlhf_generate")
    print(f"sample: {detokenize(lib, tokenizer, (C.c_int32 * PROMPT)(*ids[:PROMPT]))}|"
          f"{detokenize(lib, tokenizer, (C.c_int32 * length.value)(*out[:length.value]))}")

    for name, h in (("rlhf_optimizer_destroy", adamw), ("rlhf_tokenizer_destroy", tokenizer),
                    ("rlhf_model_destroy", model), ("rlhf_backend_destroy", cpu)):
        check(lib, getattr(lib, name)(h), name)
    check(lib, lib.rlhf_shutdown(), "rlhf_shutdown")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RlhfError as e:
        print(e, file=sys.stderr)
        sys.exit(1)
