#include "domain/password.h"

#include <argon2.h>
#include <openssl/crypto.h>
#include <sys/mman.h>

#include <cstdio>
#include <cstring>
#include <optional>
#include <mutex>
#include <semaphore>
#include <stdexcept>
#include <thread>
#include <vector>

#include "base/crypto.h"

namespace roster {

namespace {

// -- working memory -----------------------------------------------------------
// Each Argon2id run needs m KiB (19 MiB by default). Left to malloc, those
// blocks settle in glibc's per-thread arenas and RSS grows by ~19 MiB for
// every HTTP thread that ever hashed; forced through mmap, every hash pays
// for page faults under the mm lock (a 4x throughput loss, measured). So:
// at most one hash per core runs at once (more only thrash the caches and
// memory bus: measured 63 vs 77 logins/s on 2 cores), each in a buffer from a
// small pool that is mapped once and reused.
struct memory_pool {
  const unsigned slots = std::max(1u, std::thread::hardware_concurrency());
  std::counting_semaphore<1024> running{static_cast<std::ptrdiff_t>(slots)};
  std::mutex mutex;
  std::vector<std::pair<uint8_t*, size_t>> free;  // guarded by mutex

  uint8_t* take(size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      for (auto it = free.begin(); it != free.end(); ++it) {
        if (it->second == bytes) {
          auto p = it->first;
          free.erase(it);
          return p;
        }
      }
    }
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? nullptr : static_cast<uint8_t*>(p);
  }

  void give(uint8_t* p, size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex);
    if (free.size() < slots) {
      free.emplace_back(p, bytes);
      return;
    }
    ::munmap(p, bytes);
  }
};

memory_pool& pool() {
  static memory_pool p;
  return p;
}

int pool_allocate(uint8_t** memory, size_t bytes) {
  *memory = pool().take(bytes);
  return *memory ? ARGON2_OK : ARGON2_MEMORY_ALLOCATION_ERROR;
}

void pool_free(uint8_t* memory, size_t bytes) { pool().give(memory, bytes); }

// -- PHC string format ($argon2id$v=19$m=..,t=..,p=..$salt$hash) ---------------
// libargon2 encodes and decodes this format only on its own allocator path,
// so the (small) parser is here; base64 is the standard alphabet, unpadded.

struct phc {
  argon2_params params;
  std::string salt;
  std::string hash;
};

std::optional<phc> parse_phc(const std::string& encoded) {
  unsigned m = 0, t = 0, p = 0, v = 0;
  int consumed = 0;
  if (std::sscanf(encoded.c_str(), "$argon2id$v=%u$m=%u,t=%u,p=%u$%n", &v, &m, &t, &p, &consumed) != 4 || consumed == 0)
    return std::nullopt;
  if (v != ARGON2_VERSION_13 || m < 8 || m > (4u << 20) || t < 1 || t > 64 || p < 1 || p > 64) return std::nullopt;
  std::string_view rest(encoded);
  rest.remove_prefix(static_cast<size_t>(consumed));
  auto dollar = rest.find('$');
  if (dollar == std::string_view::npos) return std::nullopt;
  auto salt = base64_decode_unpadded(rest.substr(0, dollar));
  auto hash = base64_decode_unpadded(rest.substr(dollar + 1));
  if (!salt || !hash || salt->size() < 8 || hash->size() < 16 || hash->size() > 64) return std::nullopt;
  return phc{{m, t, p}, std::move(*salt), std::move(*hash)};
}

/// Runs Argon2id into `out` (its size is the tag length). False on error.
bool run_argon2(std::string_view password, const std::string& salt, const argon2_params& p, std::string& out) {
  argon2_context ctx{};
  ctx.out = reinterpret_cast<uint8_t*>(out.data());
  ctx.outlen = static_cast<uint32_t>(out.size());
  ctx.pwd = reinterpret_cast<uint8_t*>(const_cast<char*>(password.data()));
  ctx.pwdlen = static_cast<uint32_t>(password.size());
  ctx.salt = reinterpret_cast<uint8_t*>(const_cast<char*>(salt.data()));
  ctx.saltlen = static_cast<uint32_t>(salt.size());
  ctx.t_cost = p.iterations;
  ctx.m_cost = p.memory_kib;
  ctx.lanes = p.parallelism;
  ctx.threads = p.parallelism;
  ctx.version = ARGON2_VERSION_13;
  ctx.allocate_cbk = pool_allocate;
  ctx.free_cbk = pool_free;
  ctx.flags = ARGON2_DEFAULT_FLAGS;
  auto& slots = pool().running;
  slots.acquire();
  int rc = argon2_ctx(&ctx, Argon2_id);
  slots.release();
  return rc == ARGON2_OK;
}

} // namespace

std::string hash_password(std::string_view password, const argon2_params& p) {
  std::string salt = random_bytes(16);
  std::string tag(32, '\0');
  if (!run_argon2(password, salt, p, tag)) throw std::runtime_error("argon2id hashing failed");
  char head[96];
  std::snprintf(head, sizeof head, "$argon2id$v=%d$m=%u,t=%u,p=%u$", ARGON2_VERSION_13, p.memory_kib, p.iterations,
                p.parallelism);
  return head + base64_encode_unpadded(salt) + "$" + base64_encode_unpadded(tag);
}

bool verify_password(std::string_view password, const std::string& encoded) {
  auto parsed = parse_phc(encoded);
  if (!parsed) return false;
  std::string tag(parsed->hash.size(), '\0');
  if (!run_argon2(password, parsed->salt, parsed->params, tag)) return false;
  return CRYPTO_memcmp(tag.data(), parsed->hash.data(), tag.size()) == 0;
}

const std::string& dummy_password_hash(const argon2_params& p) {
  static std::once_flag once;
  static std::string hash;
  std::call_once(once, [&] { hash = hash_password(base64url_encode(random_bytes(18)), p); });
  return hash;
}

} // namespace roster
