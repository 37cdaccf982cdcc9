// Random variates for workload generation, built from the raw 64-bit output
// of std::mt19937_64 only: the std:: distributions are implementation-
// defined, and a seed must give the same requests with every standard
// library.
//
// Contract: pure functions of the engine's state (they advance it); not
// thread-safe on a shared engine. Same seed, same numbers, everywhere.
#ifndef DISAGG_SIM_RANDOM_H_
#define DISAGG_SIM_RANDOM_H_

#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>

namespace disagg::sim {

// Uniform in [0, 1) with 53 random bits.
inline double Uniform01(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

// Uniform integer in [0, n), unbiased (rejects the 2^64 mod n lowest draws).
inline uint64_t UniformBelow(std::mt19937_64& rng, uint64_t n) {
  uint64_t threshold = (0 - n) % n;
  while (true) {
    uint64_t x = rng();
    if (x >= threshold) return x % n;
  }
}

// Exponential with mean `mean`.
inline double Exponential(std::mt19937_64& rng, double mean) {
  return -std::log1p(-Uniform01(rng)) * mean;
}

// Standard normal (Box-Muller; one draw per call).
inline double Normal(std::mt19937_64& rng) {
  double u1 = 1.0 - Uniform01(rng);  // (0, 1]
  double u2 = Uniform01(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

// Gamma(shape, scale 1) by Marsaglia and Tsang (2000); shape < 1 uses the
// boost Gamma(shape) = Gamma(shape + 1) * U^(1/shape).
inline double Gamma(std::mt19937_64& rng, double shape) {
  double boost = 1;
  if (shape < 1) {
    boost = std::pow(1.0 - Uniform01(rng), 1.0 / shape);
    shape += 1;
  }
  double d = shape - 1.0 / 3.0;
  double c = 1.0 / std::sqrt(9.0 * d);
  while (true) {
    double x = Normal(rng);
    double v = 1 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    double u = 1.0 - Uniform01(rng);  // (0, 1]
    if (u < 1 - 0.0331 * x * x * x * x || std::log(u) < 0.5 * x * x + d * (1 - v + std::log(v))) {
      return d * v * boost;
    }
  }
}

// SplitMix64 finaliser: a second, independent seed from a seed (for a
// length stream that must not depend on the arrival stream).
inline uint64_t MixSeed(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace disagg::sim

#endif  // DISAGG_SIM_RANDOM_H_
