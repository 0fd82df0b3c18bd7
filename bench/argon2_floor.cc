// Measures Argon2id with the default parameters: the time of one hash on one
// thread (the login floor of SPEC §7 is cores ÷ this time), and the hashes per
// second that `threads` threads actually reach together (memory bandwidth
// shared between cores makes this lower than cores ÷ time).
// Usage: argon2_floor [hashes-per-thread] [threads]   → prints "<ms> <parallel/s>"
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "domain/password.h"

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 20;
  int threads = argc > 2 ? std::atoi(argv[2]) : static_cast<int>(std::thread::hardware_concurrency());
  roster::argon2_params p;
  auto hash = roster::hash_password("correct horse battery", p);
  using clock = std::chrono::steady_clock;
  auto start = clock::now();
  for (int i = 0; i < n; ++i) roster::verify_password("correct horse battery", hash);
  double ms = std::chrono::duration<double, std::milli>(clock::now() - start).count() / n;
  start = clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (int i = 0; i < n; ++i) roster::verify_password("correct horse battery", hash);
    });
  for (auto& t : pool) t.join();
  double secs = std::chrono::duration<double>(clock::now() - start).count();
  std::printf("%.3f %.1f\n", ms, n * threads / secs);
}
