#pragma once
// The one errc → HTTP status + JSON body mapping (SPEC §2). Every error a
// client sees is {"error": {"code", "message", "fields"?}}; 429 and 503 carry
// Retry-After. Nothing internal (exception text, store errors) is ever sent.
#include <httplib.h>

#include "actors/user/user_protocol.h"
#include "base/errc.h"

namespace roster::http {

int status_of(errc e);
void write_error(httplib::Response& res, const error& e);
void write_error(httplib::Response& res, errc code, const std::string& message);
void write_json(httplib::Response& res, int status, const std::string& body);

/// Writes a rendered view with `ok_status`, or the mapped error. 204
/// replies carry no body.
void write_view(httplib::Response& res, const result<view>& r, int ok_status = 200);
/// Writes the error, or `ok_status` (204: no body) with `body`.
void write_status(httplib::Response& res, const status& s, int ok_status = 204, const std::string& body = "{}");
/// {"user": ..., "session": ... | null[, "created": bool]} with ok_status, or the error.
void write_signed_in(httplib::Response& res, const result<signed_in>& r, int ok_status,
                     std::optional<bool> created = std::nullopt);

/// Writes a successful result rendered by `render`, or its error.
template <class T, class Render>
void write_result(httplib::Response& res, const result<T>& r, int ok_status, Render&& render) {
  if (!r) return write_error(res, r.err());
  write_json(res, ok_status, render(*r));
}

} // namespace roster::http
