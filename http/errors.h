#pragma once
// The one errc → HTTP status + JSON body mapping (SPEC §2). Every error a
// client sees is {"error": {"code", "message", "fields"?}}; 429 and 503 carry
// Retry-After. Nothing internal (exception text, store errors) is ever sent.
#include <httplib.h>

#include "actors/messages.h"
#include "base/errc.h"

namespace roster::http {

int status_of(errc e);
void write_error(httplib::Response& res, const error& e);
void write_error(httplib::Response& res, errc code, const std::string& message);
/// Writes a router reply: the body with `ok_status`, or the mapped error.
/// 204 replies carry no body.
void write_reply(httplib::Response& res, const reply& r, int ok_status = 200);
void write_json(httplib::Response& res, int status, const std::string& body);

} // namespace roster::http
