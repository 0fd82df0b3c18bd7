#pragma once
// Message texts from templates (SPEC §5, `[templates.<kind>]`): a subject, a
// text part and an HTML part per kind of message, with {{placeholder}}
// substitution. Values are escaped for HTML in the HTML part. Every kind has
// a built-in default, which config may override field by field.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace roster {

struct message_template {
  std::string subject;
  std::string text;
  std::string html;  // empty: the message has no HTML part
};

/// The kinds of message Roster sends, in documentation order.
const std::vector<std::string>& message_kinds();
/// The built-in template of `kind` (empty for an unknown kind).
message_template default_template(std::string_view kind);
/// The built-in template of every kind.
std::map<std::string, message_template> default_templates();

struct rendered_message {
  std::string subject, text, html;
};

/// Replaces each {{name}} (spaces inside the braces allowed) by vars[name];
/// an unknown name becomes empty. In `html`, values are HTML-escaped; line
/// breaks in the subject become spaces (it is a mail header).
rendered_message render(const message_template& t, const std::map<std::string, std::string>& vars);

/// & < > " ' as entities.
std::string html_escape(std::string_view s);

} // namespace roster

namespace roster {

/// An email as it goes over SMTP (RFC 5322 + MIME): Message-ID
/// `<delivery_id@roster>` (a receiver de-duplicates a resent message on it),
/// Date, From, To, a Subject (RFC 2047-encoded when not plain ASCII), and a
/// text part — plus an HTML part (multipart/alternative) when `html` is not
/// empty. Bodies are base64 (UTF-8), lines CRLF. Header values have CR and
/// LF removed, so no value can add a header.
std::string mime_message(std::string_view delivery_id, std::string_view from, std::string_view to,
                         std::string_view subject, std::string_view text, std::string_view html, int64_t unix_seconds);

} // namespace roster
