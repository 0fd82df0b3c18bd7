#pragma once
// `roster cert create-ca` and `roster cert create-node NAME`: the files a
// cluster needs for mutual TLS between nodes (cluster.tls_cert, tls_key,
// tls_ca), made with OpenSSL. Private keys and certificates are written 0600
// and never overwritten.
#include <string>

#include "base/errc.h"

namespace roster {

struct cert_files {
  std::string cert, key;
};

/// A new certificate authority in `dir` (created 0700 if missing):
/// ca.crt and ca.key. Refuses if ca.key exists.
result<cert_files> create_cluster_ca(const std::string& dir);

/// A node certificate signed by the CA in `dir`: node-NAME.crt and
/// node-NAME.key, for client and server use (the same files serve both
/// ends of a link). Refuses if they exist or NAME is not [A-Za-z0-9._-]+.
result<cert_files> create_node_cert(const std::string& dir, const std::string& name);

} // namespace roster
