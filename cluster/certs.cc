#include "cluster/certs.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <memory>

namespace roster {

namespace {

namespace fs = std::filesystem;

using pkey_ptr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using x509_ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using bio_ptr = std::unique_ptr<BIO, decltype(&BIO_free)>;

constexpr long ca_days = 3650, node_days = 825;

error failed(const std::string& what) { return make_error(errc::internal, what); }

pkey_ptr new_key() { return {EVP_EC_gen("P-256"), &EVP_PKEY_free}; }

bool add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
  if (!ext) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

/// A certificate for `key` named `cn`, signed by `issuer_key` (`issuer`
/// null: self-signed).
x509_ptr make_cert(EVP_PKEY* key, const std::string& cn, X509* issuer, EVP_PKEY* issuer_key, long days, bool ca) {
  x509_ptr cert{X509_new(), &X509_free};
  if (!cert) return cert;
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_set_version(cert.get(), 2);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), days * 86400);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("Roster cluster"), -1,
                             -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* signer = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  bool ok = ca ? add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") &&
                     add_ext(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign")
               : add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE") &&
                     add_ext(cert.get(), signer, NID_key_usage, "critical,digitalSignature,keyAgreement") &&
                     add_ext(cert.get(), signer, NID_ext_key_usage, "serverAuth,clientAuth") &&
                     add_ext(cert.get(), signer, NID_subject_alt_name, ("DNS:" + cn).c_str());
  ok = ok && add_ext(cert.get(), signer, NID_subject_key_identifier, "hash") &&
       (issuer == nullptr || add_ext(cert.get(), signer, NID_authority_key_identifier, "keyid:always"));
  if (!ok || X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()) == 0) cert.reset();
  return cert;
}

/// Writes `pem` to a new file `path`, mode 0600; never replaces a file.
status write_new(const fs::path& path, const std::string& pem) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return failed("cannot create " + path.string() + " (does it exist already?)");
  size_t done = 0;
  while (done < pem.size()) {
    auto n = ::write(fd, pem.data() + done, pem.size() - done);
    if (n <= 0) {
      ::close(fd);
      return failed("cannot write " + path.string());
    }
    done += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  return {};
}

template <class Write>
std::string pem_of(Write&& write) {
  bio_ptr bio{BIO_new(BIO_s_mem()), &BIO_free};
  if (!bio || !write(bio.get())) return {};
  char* data = nullptr;
  auto len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

status write_pair(const fs::path& crt, const fs::path& key_path, X509* cert, EVP_PKEY* key) {
  auto key_pem = pem_of([&](BIO* b) { return PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr); });
  auto crt_pem = pem_of([&](BIO* b) { return PEM_write_bio_X509(b, cert); });
  if (key_pem.empty() || crt_pem.empty()) return failed("cannot encode the key or certificate");
  if (auto st = write_new(key_path, key_pem); !st) return st;
  return write_new(crt, crt_pem);
}

status ensure_dir(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return failed("cannot create " + dir.string() + ": " + ec.message());
    ::chmod(dir.c_str(), 0700);
  }
  return {};
}

} // namespace

result<cert_files> create_cluster_ca(const std::string& dir) {
  fs::path d(dir);
  if (auto st = ensure_dir(d); !st) return st.err();
  if (fs::exists(d / "ca.key")) return failed((d / "ca.key").string() + " exists: a CA is there already");
  auto key = new_key();
  if (!key) return failed("cannot generate a key");
  auto cert = make_cert(key.get(), "Roster cluster CA", nullptr, nullptr, ca_days, true);
  if (!cert) return failed("cannot make the CA certificate");
  if (auto st = write_pair(d / "ca.crt", d / "ca.key", cert.get(), key.get()); !st) return st.err();
  return cert_files{(d / "ca.crt").string(), (d / "ca.key").string()};
}

result<cert_files> create_node_cert(const std::string& dir, const std::string& name) {
  if (name.empty() || name.size() > 64 ||
      !std::all_of(name.begin(), name.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'; }))
    return make_error(errc::invalid_request, "node name must be 1-64 characters of A-Z a-z 0-9 . _ -");
  fs::path d(dir);
  auto read_file = [](const fs::path& p) -> bio_ptr { return {BIO_new_file(p.c_str(), "r"), &BIO_free}; };
  auto ca_key_bio = read_file(d / "ca.key");
  auto ca_crt_bio = read_file(d / "ca.crt");
  if (!ca_key_bio || !ca_crt_bio)
    return failed("no CA in " + dir + " (run `roster cert create-ca --dir " + dir + "` first)");
  pkey_ptr ca_key{PEM_read_bio_PrivateKey(ca_key_bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free};
  x509_ptr ca_crt{PEM_read_bio_X509(ca_crt_bio.get(), nullptr, nullptr, nullptr), &X509_free};
  if (!ca_key || !ca_crt) return failed("cannot read the CA in " + dir);
  auto key = new_key();
  if (!key) return failed("cannot generate a key");
  auto cert = make_cert(key.get(), name, ca_crt.get(), ca_key.get(), node_days, false);
  if (!cert) return failed("cannot make the node certificate");
  auto crt = d / ("node-" + name + ".crt"), kp = d / ("node-" + name + ".key");
  if (auto st = write_pair(crt, kp, cert.get(), key.get()); !st) return st.err();
  return cert_files{crt.string(), kp.string()};
}

} // namespace roster
