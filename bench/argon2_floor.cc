// Measures one Argon2id hash with the default parameters (the login floor is
// cores ÷ this time). Usage: argon2_floor [iterations]
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "domain/password.h"

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 20;
  roster::argon2_params p;
  auto hash = roster::hash_password("correct horse battery", p);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) roster::verify_password("correct horse battery", hash);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / n;
  std::printf("%.3f\n", ms);
}
