// docs/openapi.yaml and the route table (http/routes.cc) list the same method + path pairs.
// The document's `paths` section is read line by line under the layout rules written at its
// top (no YAML library here); a line that breaks them is reported rather than skipped, so a
// path cannot hide from this test by being written another way.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "http/routes.h"

namespace roster::http {
namespace {

using pair_set = std::set<std::pair<std::string, std::string>>;  // {method, path}

struct documented_paths {
  pair_set operations;
  std::vector<std::string> problems;  // lines that break the layout rules
};

size_t indent_of(const std::string& line) {
  size_t n = 0;
  while (n < line.size() && line[n] == ' ') ++n;
  return n;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

/// The operations of the `paths:` section of an OpenAPI document in our layout: paths as
/// plain keys at two spaces, operations as lowercase method keys at four.
documented_paths scan_paths(std::istream& in) {
  static const std::set<std::string> methods = {"get", "put", "post", "delete", "patch", "options", "head", "trace"};
  static const std::set<std::string> other_keys = {"parameters", "summary", "description"};
  documented_paths out;
  std::string line, path;
  std::set<std::string> seen;
  bool in_paths = false, seen_paths = false;
  int number = 0;
  auto problem = [&](const std::string& why) {
    out.problems.push_back("line " + std::to_string(number) + ": " + why + ": " + line);
  };
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto first = line.find_first_not_of(' ');
    if (first == std::string::npos || line[first] == '#') continue;  // blank or comment
    if (line.find('\t') < first) {
      problem("a tab in the indentation");
      continue;
    }
    if (first == 0) {
      if (in_paths) break;  // the next top-level key ends the section
      if (line.rfind("paths:", 0) == 0) {
        in_paths = seen_paths = true;
        if (line.find_first_not_of(' ', 6) != std::string::npos) problem("`paths:` must stand alone");
      }
      continue;
    }
    if (!in_paths) continue;
    auto indent = indent_of(line);
    auto colon = line.find(':', indent);
    std::string key = colon == std::string::npos ? std::string() : line.substr(indent, colon - indent);
    bool bare = colon != std::string::npos && line.find_first_not_of(' ', colon + 1) == std::string::npos;
    if (indent == 2) {
      if (key.empty() || key[0] != '/' || !bare || key.find_first_of(" '\"") != std::string::npos) {
        problem("a path must be a plain `  /...:` key on its own line");
        path.clear();
        continue;
      }
      path = key;
      if (!seen.insert(path).second) problem("the path is listed twice");
    } else if (indent == 4) {
      if (path.empty()) {
        problem("a path item key outside a valid path");
      } else if (methods.count(key)) {
        if (!bare) problem("an operation must be a block mapping (`    get:` alone on its line)");
        else out.operations.emplace(upper(key), path);
      } else if (!other_keys.count(key)) {
        problem("a path item may hold only operations, parameters, summary and description");
      }
    } else if (indent < 4) {
      problem("unexpected indentation in `paths`");
    }
  }
  if (!seen_paths) out.problems.push_back("no `paths:` section");
  return out;
}

std::string list(const pair_set& s) {
  std::string out;
  for (auto& [m, p] : s) out += "\n  " + m + " " + p;
  return out;
}

TEST(OpenApi, ScannerReadsOurLayoutAndRefusesOthers) {
  std::istringstream good(R"(openapi: 3.1.0
paths:
  # a comment
  /v1/users/{id}:
    parameters:
      - $ref: '#/components/parameters/userId'
    get:
      summary: x
      description: |
        get: not an operation, only text
    delete:
      responses: {}

  /healthz:
    get:
      summary: y
components:
  paths:
    /not/a/path:
      get: {}
)");
  auto g = scan_paths(good);
  EXPECT_TRUE(g.problems.empty()) << ::testing::PrintToString(g.problems);
  EXPECT_EQ(g.operations, (pair_set{{"GET", "/v1/users/{id}"}, {"DELETE", "/v1/users/{id}"}, {"GET", "/healthz"}}));

  std::istringstream bad(R"(paths:
  '/quoted':
    get:
  /flow: {get: {}}
  /ok:
    get: {summary: inline}
    x-extra: 1
   /three:
  /ok:
    post:
)");
  auto b = scan_paths(bad);
  EXPECT_EQ(b.problems.size(), 7u) << ::testing::PrintToString(b.problems);
  std::istringstream none("openapi: 3.1.0\n");
  EXPECT_EQ(scan_paths(none).problems.size(), 1u);
}

TEST(OpenApi, DocumentListsExactlyTheRouteTable) {
  std::ifstream doc(ROSTER_SOURCE_DIR "/docs/openapi.yaml");
  ASSERT_TRUE(doc) << "cannot read " ROSTER_SOURCE_DIR "/docs/openapi.yaml";
  auto documented = scan_paths(doc);
  EXPECT_TRUE(documented.problems.empty())
    << "docs/openapi.yaml breaks the layout rules at its top:\n" << ::testing::PrintToString(documented.problems);
  pair_set routed;
  for (auto& r : build_routes()) routed.emplace(r.method, r.pattern);
  pair_set undocumented, unrouted;
  for (auto& op : routed)
    if (!documented.operations.count(op)) undocumented.insert(op);
  for (auto& op : documented.operations)
    if (!routed.count(op)) unrouted.insert(op);
  EXPECT_TRUE(undocumented.empty()) << "in http/routes.cc but not in docs/openapi.yaml:" << list(undocumented);
  EXPECT_TRUE(unrouted.empty()) << "in docs/openapi.yaml but not in http/routes.cc:" << list(unrouted);
  EXPECT_EQ(documented.operations.size(), routed.size());
}

} // namespace
} // namespace roster::http
