#include "domain/message_text.h"

#include <algorithm>
#include <ctime>

#include "base/crypto.h"

namespace roster {

namespace {

std::string substitute(std::string_view t, const std::map<std::string, std::string>& vars, bool escape) {
  std::string out;
  out.reserve(t.size() + 64);
  size_t i = 0;
  while (i < t.size()) {
    auto open = t.find("{{", i);
    if (open == std::string_view::npos) break;
    auto close = t.find("}}", open + 2);
    if (close == std::string_view::npos) break;
    out.append(t.substr(i, open - i));
    auto name = t.substr(open + 2, close - open - 2);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (auto it = vars.find(std::string(name)); it != vars.end()) out += escape ? html_escape(it->second) : it->second;
    i = close + 2;
  }
  out.append(t.substr(i));
  return out;
}

} // namespace

const std::vector<std::string>& message_kinds() {
  static const std::vector<std::string> kinds = {"email_code",       "magic_link",       "phone_code", "verification",
                                                 "recovery",         "email_change_new", "email_change_old",
                                                 "phone_verification"};
  return kinds;
}

message_template default_template(std::string_view kind) {
  if (kind == "email_code")
    return {"Your code", "Your code is {{code}}. It expires in {{minutes}} minutes.",
            "<p>Your code is <strong>{{code}}</strong>. It expires in {{minutes}} minutes.</p>"};
  if (kind == "magic_link")
    return {"Your sign-in link", "Sign in with this link: {{link}}\nIt expires in {{minutes}} minutes.",
            "<p><a href=\"{{link}}\">Sign in</a>. The link expires in {{minutes}} minutes.</p>"};
  if (kind == "phone_code") return {"", "Your code is {{code}}. It expires in {{minutes}} minutes.", ""};
  if (kind == "phone_verification")
    return {"", "Your confirmation code is {{code}}. It expires in {{minutes}} minutes.", ""};
  if (kind == "verification")
    return {"Confirm your email", "Your confirmation code is {{code}}. It expires in {{minutes}} minutes.",
            "<p>Your confirmation code is <strong>{{code}}</strong>. It expires in {{minutes}} minutes.</p>"};
  if (kind == "recovery")
    return {"Reset your password",
            "Your password reset code is {{code}}. It expires in {{minutes}} minutes. If you did not ask for it, "
            "ignore this message.",
            "<p>Your password reset code is <strong>{{code}}</strong>. It expires in {{minutes}} minutes.</p>"
            "<p>If you did not ask for it, ignore this message.</p>"};
  if (kind == "email_change_new")
    return {"Confirm your new email", "Your code to confirm {{email}} is {{code}}. It expires in {{minutes}} minutes.",
            "<p>Your code to confirm {{email}} is <strong>{{code}}</strong>. It expires in {{minutes}} "
            "minutes.</p>"};
  if (kind == "email_change_old")
    return {"Your email is being changed",
            "Someone asked to change the email of your account to {{email}}. If it was not you, change your "
            "password now.",
            "<p>Someone asked to change the email of your account to {{email}}. If it was not you, change your "
            "password now.</p>"};
  return {};
}

std::map<std::string, message_template> default_templates() {
  std::map<std::string, message_template> all;
  for (auto& kind : message_kinds()) all[kind] = default_template(kind);
  return all;
}

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

rendered_message render(const message_template& t, const std::map<std::string, std::string>& vars) {
  rendered_message m{substitute(t.subject, vars, false), substitute(t.text, vars, false),
                     substitute(t.html, vars, true)};
  // A subject is a mail header: a value must not start another header.
  for (auto& c : m.subject)
    if (c == '\r' || c == '\n') c = ' ';
  return m;
}

} // namespace roster

namespace roster {

namespace {

std::string base64_padded(std::string_view bytes) {
  auto s = base64_encode_unpadded(bytes);
  while (s.size() % 4) s.push_back('=');
  return s;
}

/// Base64 in lines of 76 characters (RFC 2045), CRLF after each.
std::string base64_body(std::string_view bytes) {
  auto s = base64_padded(bytes);
  std::string out;
  out.reserve(s.size() + s.size() / 38 + 2);
  for (size_t i = 0; i < s.size(); i += 76) {
    out.append(s, i, 76);
    out += "\r\n";
  }
  return out;
}

std::string header_value(std::string_view v) {
  std::string out;
  for (char c : v)
    if (c != '\r' && c != '\n') out.push_back(c);
  return out;
}

bool plain_ascii(std::string_view v) {
  return std::all_of(v.begin(), v.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

std::string rfc5322_date(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

} // namespace

std::string mime_message(std::string_view delivery_id, std::string_view from, std::string_view to,
                         std::string_view subject, std::string_view text, std::string_view html, int64_t unix_seconds) {
  std::string subject_line = header_value(subject);
  if (!plain_ascii(subject_line)) subject_line = "=?UTF-8?B?" + base64_padded(subject_line) + "?=";
  std::string m;
  m += "Message-ID: <" + header_value(delivery_id) + "@roster>\r\n";
  m += "Date: " + rfc5322_date(unix_seconds) + "\r\n";
  m += "From: " + header_value(from) + "\r\n";
  m += "To: " + header_value(to) + "\r\n";
  m += "Subject: " + subject_line + "\r\n";
  m += "MIME-Version: 1.0\r\n";
  auto part = [](std::string_view type, std::string_view body) {
    return "Content-Type: " + std::string(type) + "; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
           base64_body(body);
  };
  if (html.empty()) return m + part("text/plain", text);
  // The boundary is derived from the delivery id: it cannot occur in base64.
  std::string boundary = "=_roster_" + header_value(delivery_id);
  m += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n";
  m += "--" + boundary + "\r\n" + part("text/plain", text);
  m += "--" + boundary + "\r\n" + part("text/html", html);
  m += "--" + boundary + "--\r\n";
  return m;
}

} // namespace roster
