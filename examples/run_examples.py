#!/usr/bin/env python3
"""Compiles and runs the model examples of this folder and checks each one
against the float64 reference (python/attnflow/reference.py).

For each example: `attnflow-compile --emit=llvm-ir` (the .ll is kept under the
build folder), seeded N(0, 1) inputs written as .npy, `attnflow-run` with
--repeat for timings, and the max abs error against the reference. Exits 1 if
an example exceeds its tolerance (DESIGN.md §6; |err| <= 1e-4 in f32). Long
examples are checked on stated query rows, each against its exact reference.

Usage: run_examples.py --build-dir BUILD [--repeat N] [NAME ...]
"""

import argparse
import os
import re
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir, "python"))

from attnflow import flow, random_features, reference  # noqa: E402

TOLERANCE = 1e-4

LLAMA3_SCALING = {"kind": "llama3", "factor": 8.0, "original_max_position": 8192,
                  "low_freq_factor": 1.0, "high_freq_factor": 4.0}


def qkv(rng, hq, hkv, sq, skv, d):
    """Seeded N(0, 1) float32 q [1,hq,sq,d], k and v [1,hkv,skv,d]."""
    return (rng.standard_normal((1, hq, sq, d), dtype=np.float32),
            rng.standard_normal((1, hkv, skv, d), dtype=np.float32),
            rng.standard_normal((1, hkv, skv, d), dtype=np.float32))


def llama31_8b_attention(rng):
    s = 512
    q, k, v = qkv(rng, 32, 8, s, s, 128)
    pos = np.arange(s, dtype=np.int64)

    def ref():
        qr = reference.rope(q, pos, theta=500000.0, scaling=LLAMA3_SCALING)
        kr = reference.rope(k, pos, theta=500000.0, scaling=LLAMA3_SCALING)
        return reference.attention(qr, kr, v, causal=True)
    return [q, k, v, pos], ref


def gemma2_attention(rng):
    sq, skv = 64, 4608
    q, k, v = qkv(rng, 8, 4, sq, skv, 256)
    q_pos = np.arange(skv - sq, skv, dtype=np.int64)
    k_pos = np.arange(skv, dtype=np.int64)

    def ref():
        qr = reference.rope(q, q_pos)
        kr = reference.rope(k, k_pos)
        return reference.attention(qr, kr, v, scale=0.0625, causal=True,
                                   window_left=4095, logit_softcap=50.0)
    return [q, k, v, q_pos, k_pos], ref


# Query rows of the Mistral example checked against the reference: the first
# tile, rows around the first full window (4095..4096), a middle block and the
# last tile. Each row's float64 reference is exact (it sees all its keys);
# checking all 16384 rows in float64 would take minutes here.
MISTRAL_ROWS = [(0, 64), (4064, 4128), (9000, 9064), (16320, 16384)]


def mistral_7b_window(rng):
    s = 16384
    q, k, v = qkv(rng, 32, 8, s, s, 128)
    pos = np.arange(s, dtype=np.int64)

    def ref():
        kr = reference.rope(k, pos)
        rows = []
        for r0, r1 in MISTRAL_ROWS:
            qr = reference.rope(q[:, :, r0:r1], pos[r0:r1])
            rows.append(reference.attention(qr, kr, v, causal=True,
                                            window_left=4095, q_offset=r0))
        return np.concatenate(rows, axis=2)
    return [q, k, v, pos], ref, MISTRAL_ROWS


def performer_layer(rng):
    q, k, v = qkv(rng, 8, 8, 4096, 4096, 128)
    # C order: .npy files are read as written, and attnflow-run wants
    # row-major arrays.
    projection = np.ascontiguousarray(
        random_features.favor_plus_projection(256, 128, seed=0), dtype=np.float32)

    def ref():
        return reference.linear_attention(q, k, v, projection,
                                          feature_map="favor_plus", causal=True)
    return [q, k, v, projection], ref


def transformer_vq_layer(rng):
    q, k, v = qkv(rng, 8, 8, 4096, 4096, 128)
    # One codebook per head, fitted to that head's keys (a few k-means
    # iterations: any codebook is valid, this one is realistic).
    codebook = np.ascontiguousarray(np.stack([
        random_features.kmeans_codebook(k[0, h], 512, seed=h, iterations=4)
        for h in range(8)]), dtype=np.float32)

    def ref():
        return reference.vq_attention(q, k, v, codebook, causal=True)
    return [q, k, v, codebook], ref


# The sampler's sizes and guidance scale, as written in its .mlir header.
SAMPLER_BATCH, SAMPLER_DIM, SAMPLER_HIDDEN, SAMPLER_GUIDANCE = 64, 64, 256, 3.0


def rectified_flow_sampler(method, steps):
    """Seeded noise x0 [B, D] and MLP weights; the reference integrates
    flow.mlp_velocity with reference.ode_solve."""
    def spec(rng):
        params = flow.mlp_params(rng, SAMPLER_DIM, SAMPLER_HIDDEN, SAMPLER_BATCH)
        x0 = rng.standard_normal((SAMPLER_BATCH, SAMPLER_DIM), dtype=np.float32)

        def velocity(x, t, *p):
            return flow.mlp_velocity(x, t, *p, guidance=SAMPLER_GUIDANCE)

        def ref():
            return reference.ode_solve(velocity, x0, method, num_steps=steps,
                                       params=params)
        return [x0, *params], ref
    return spec


def _rnn_reference(cell, h0, u, params):
    """The sequential recurrence h_t = cell(h_{t-1}, u_t) in float64."""
    params = [p.astype(np.float64) for p in params]
    return lambda: reference.rnn_sequential(cell, h0, u, params)


def deer_tanh_rnn(rng):
    """Seeded h0, inputs and weights (N(0, 1 / fan-in)); W scaled to spectral
    radius 0.9. Reference: the sequential tanh RNN."""
    n, m, batch, steps = 16, 16, 4, 2048
    w, uw = (rng.standard_normal((n, k)) / np.sqrt(k) for k in (n, m))
    w *= 0.9 / np.max(np.abs(np.linalg.eigvals(w)))
    b = 0.1 * rng.standard_normal(n)
    params = [p.astype(np.float32) for p in (w, uw, b)]
    h0 = rng.standard_normal((batch, n), dtype=np.float32)
    u = rng.standard_normal((batch, steps, m), dtype=np.float32)

    def cell(h, ut, w, uw, b):
        return np.tanh(w @ h + uw @ ut + b)
    return [h0, u, *params], _rnn_reference(cell, h0, u, params)


def deer_gru(rng):
    """Seeded h0, inputs and GRU weights (N(0, 1 / fan-in), biases 0.1 N(0,
    1)). Reference: the sequential GRU."""
    n, m, batch, steps = 16, 8, 2, 1024
    params = []
    for _ in range(3):
        params += [rng.standard_normal((n, n)) / np.sqrt(n),
                   rng.standard_normal((n, m)) / np.sqrt(m),
                   0.1 * rng.standard_normal(n)]
    params = [p.astype(np.float32) for p in params]
    h0 = rng.standard_normal((batch, n), dtype=np.float32)
    u = rng.standard_normal((batch, steps, m), dtype=np.float32)

    def cell(h, ut, wz, uz, bz, wr, ur, br, wn, un, bn):
        z = 1 / (1 + np.exp(-(wz @ h + uz @ ut + bz)))
        r = 1 / (1 + np.exp(-(wr @ h + ur @ ut + br)))
        c = np.tanh(wn @ (r * h) + un @ ut + bn)
        return (1 - z) * c + z * h
    return [h0, u, *params], _rnn_reference(cell, h0, u, params)


# A name "file:entry" runs function @entry of file.mlir (default @main).
EXAMPLES = {
    "llama31_8b_attention": llama31_8b_attention,
    "gemma2_attention": gemma2_attention,
    "mistral_7b_window": mistral_7b_window,
    "performer_layer": performer_layer,
    "transformer_vq_layer": transformer_vq_layer,
    "rectified_flow_sampler:euler8": rectified_flow_sampler("euler", 8),
    "rectified_flow_sampler:rk4_4": rectified_flow_sampler("rk4", 4),
    "deer_tanh_rnn": deer_tanh_rnn,
    "deer_gru": deer_gru,
}


def run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"run_examples: {' '.join(cmd)} failed ({proc.returncode}):\n"
                 f"{proc.stderr.strip()}")
    return proc.stdout + proc.stderr


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("names", nargs="*", default=list(EXAMPLES))
    args = parser.parse_args()

    bin_dir = os.path.join(args.build_dir, "bin")
    out_dir = os.path.join(args.build_dir, "demo")
    os.makedirs(out_dir, exist_ok=True)
    failed = False
    for name in args.names:
        if name not in EXAMPLES:
            sys.exit(f"run_examples: unknown example '{name}' "
                     f"(known: {', '.join(EXAMPLES)})")
        example = EXAMPLES[name]
        file_name, _, entry = name.partition(":")
        source = os.path.join(HERE, file_name + ".mlir")
        name = name.replace(":", ".")
        llvm_ir = os.path.join(out_dir, name + ".ll")
        run([os.path.join(bin_dir, "attnflow-compile"), source, "--target=cpu",
             "--emit=llvm-ir", "-o", llvm_ir])

        spec = example(np.random.default_rng(0))
        inputs = spec[0]
        input_paths = []
        for i, array in enumerate(inputs):
            path = os.path.join(out_dir, f"{name}.in{i}.npy")
            np.save(path, array)
            input_paths.append(path)
        output = os.path.join(out_dir, name + ".out.npy")
        log = run([os.path.join(bin_dir, "attnflow-run"), source,
                   f"--entry={entry or 'main'}",
                   *[f"--input={p}" for p in input_paths], f"--output={output}",
                   f"--repeat={args.repeat}", "--warmup=1"])
        median = re.search(r"median\s+([0-9.]+)\s*ms", log)
        if not median:
            sys.exit(f"run_examples: no timing in attnflow-run output:\n{log}")

        expected = spec[1]()
        got = np.load(output).astype(np.float64)
        rows = spec[2] if len(spec) > 2 else None
        if rows:
            got = np.concatenate([got[:, :, r0:r1] for r0, r1 in rows], axis=2)
        error = float(np.max(np.abs(got - expected)))
        ok = error <= TOLERANCE
        failed |= not ok
        checked = (f" on rows {', '.join(f'{a}..{b - 1}' for a, b in rows)}"
                   if rows else "")
        print(f"{name}: max abs error {error:.2e}{checked} (tolerance {TOLERANCE:.0e}"
              f"{'' if ok else ', FAILED'}), median {float(median.group(1)):.1f} ms"
              f" over {args.repeat} runs, output {output}, LLVM IR {llvm_ir}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
