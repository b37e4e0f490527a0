//===- fma_peak.cpp - Measured f32 FMA peak of the host CPU ---------------===//
//
// Measures the f32 floating-point peak that the benchmark harness divides
// attention throughput by: independent chains of fused multiply-adds on the
// widest vectors the host executes (AVX-512, else AVX2+FMA), on one core and
// on every core at once. Each FMA counts 2 FLOPs per lane.
//
// Usage: attnflow-fma-peak [--threads=N] [--seconds=S]
// Prints one JSON object: {"isa", "lanes", "threads", "single_gflops",
// "all_gflops"} with GFLOP/s (1e9 FLOP/s) figures, best of several trials.
//
//===----------------------------------------------------------------------===//

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#if !defined(__x86_64__)
#error "attnflow-fma-peak measures x86-64 vector units only"
#endif
#include <immintrin.h>

namespace {

// Independent accumulator chains per thread. An FMA unit accepts a new
// instruction every cycle but its result takes ~4 cycles, and recent cores
// have two such units: at least 8 chains are needed to keep both busy; 16 fit
// in the 32 zmm registers with room to spare (and in 16 ymm registers, where
// the compiler keeps them all live).
constexpr int kChains = 16;
// FMAs per chain per call: long enough that loop overhead is negligible,
// short enough that a call takes a few milliseconds.
constexpr long kStepsPerCall = 1 << 20;

// Returns an opaque sum so the chains cannot be optimized away. The
// multiplier slightly below 1 keeps the values finite for any step count.
__attribute__((target("avx512f"))) float fmaChainsAvx512(long steps) {
  __m512 acc[kChains];
  for (int c = 0; c < kChains; ++c)
    acc[c] = _mm512_set1_ps(1.0f + c);
  const __m512 mul = _mm512_set1_ps(0.999999f);
  const __m512 add = _mm512_set1_ps(1e-6f);
  for (long s = 0; s < steps; ++s) {
    // Fully unrolled, or the chains live in memory instead of registers.
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c)
      acc[c] = _mm512_fmadd_ps(acc[c], mul, add);
  }
  __m512 sum = acc[0];
  for (int c = 1; c < kChains; ++c)
    sum = _mm512_add_ps(sum, acc[c]);
  float lanes[16];
  _mm512_storeu_ps(lanes, sum);
  float total = 0;
  for (float l : lanes)
    total += l;
  return total;
}

__attribute__((target("avx2,fma"))) float fmaChainsAvx2(long steps) {
  __m256 acc[kChains];
  for (int c = 0; c < kChains; ++c)
    acc[c] = _mm256_set1_ps(1.0f + c);
  const __m256 mul = _mm256_set1_ps(0.999999f);
  const __m256 add = _mm256_set1_ps(1e-6f);
  for (long s = 0; s < steps; ++s) {
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c)
      acc[c] = _mm256_fmadd_ps(acc[c], mul, add);
  }
  __m256 sum = acc[0];
  for (int c = 1; c < kChains; ++c)
    sum = _mm256_add_ps(sum, acc[c]);
  float lanes[8];
  _mm256_storeu_ps(lanes, sum);
  float total = 0;
  for (float l : lanes)
    total += l;
  return total;
}

struct Kernel {
  const char *isa;
  int lanes;
  float (*run)(long);
};

Kernel pickKernel() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f"))
    return {"avx512f", 16, fmaChainsAvx512};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return {"avx2+fma", 8, fmaChainsAvx2};
  return {nullptr, 0, nullptr};
}

// Sink for the kernels' results, so no call is dead code.
std::atomic<float> sink{0};

using Clock = std::chrono::steady_clock;

// GFLOP/s of `threads` threads each running `calls` kernel calls at once,
// timed from a common start until the last thread finishes.
double measure(const Kernel &k, int threads, int calls) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire))
        ;
      float local = 0;
      for (int i = 0; i < calls; ++i)
        local += k.run(kStepsPerCall);
      sink.store(local, std::memory_order_relaxed);
    });
  while (ready.load() != threads)
    ;
  Clock::time_point start = Clock::now();
  go.store(true, std::memory_order_release);
  for (std::thread &t : pool)
    t.join();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  double flops = 2.0 * k.lanes * kChains * double(kStepsPerCall) * calls *
                 threads;
  return flops / seconds * 1e-9;
}

// Best of `trials` measurements, each lasting about `seconds`; the call
// count comes from a one-call calibration.
double best(const Kernel &k, int threads, double seconds, int trials) {
  Clock::time_point start = Clock::now();
  sink.store(k.run(kStepsPerCall));
  double once = std::chrono::duration<double>(Clock::now() - start).count();
  int calls = std::max(1, int(seconds / std::max(once, 1e-6)));
  double result = 0;
  for (int i = 0; i < trials; ++i)
    result = std::max(result, measure(k, threads, calls));
  return result;
}

} // namespace

int main(int argc, char **argv) {
  int threads = int(std::thread::hardware_concurrency());
  double seconds = 0.3;
  for (int i = 1; i < argc; ++i) {
    if (!std::strncmp(argv[i], "--threads=", 10))
      threads = std::atoi(argv[i] + 10);
    else if (!std::strncmp(argv[i], "--seconds=", 10))
      seconds = std::atof(argv[i] + 10);
    else {
      std::fprintf(stderr, "usage: %s [--threads=N] [--seconds=S]\n", argv[0]);
      return 2;
    }
  }
  if (threads < 1 || seconds <= 0) {
    std::fprintf(stderr, "attnflow-fma-peak: --threads and --seconds must be "
                         "positive\n");
    return 2;
  }
  Kernel k = pickKernel();
  if (!k.run) {
    std::fprintf(stderr, "attnflow-fma-peak: host has neither AVX-512F nor "
                         "AVX2+FMA\n");
    return 1;
  }
  constexpr int kTrials = 5;
  double single = best(k, 1, seconds, kTrials);
  double all = best(k, threads, seconds, kTrials);
  std::printf("{\"isa\": \"%s\", \"lanes\": %d, \"threads\": %d, "
              "\"single_gflops\": %.1f, \"all_gflops\": %.1f}\n",
              k.isa, k.lanes, threads, single, all);
  return 0;
}
