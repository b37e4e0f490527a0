#!/usr/bin/env bash
# The main job: builds AttnFlow, compiles the model examples (Llama-3.1-8B,
# Gemma-2 and Mistral-7B attention, a Performer and a Transformer-VQ layer, a
# guided rectified-flow sampler with 8 Euler and 4 RK4 steps, a tanh RNN and
# a GRU solved by DEER Newton iterations) to LLVM IR, runs them on seeded
# inputs and checks them against the float64 reference. Prints per example: max abs error, median time and output path.
# Inputs and outputs stay in build/demo (about 0.85 GB, mostly the Mistral
# example's).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ATTNFLOW_BUILD_DIR:-$root/build}

"$root/scripts/build.sh"
exec /usr/bin/python3 "$root/examples/run_examples.py" --build-dir "$build" "$@"
