#include "domain/message_text.h"

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
                                                 "recovery",         "email_change_new", "email_change_old"};
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
