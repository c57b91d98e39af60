#pragma once
// JSON log lines (log.json = true): one JSON object per line, whatever the message contains.
// spdlog's pattern flags do not escape, so a message with a quote, a backslash, a newline or
// invalid UTF-8 would break a pattern like {"message":"%v"}; this formatter escapes.

#include <spdlog/formatter.h>

#include <memory>
#include <string>
#include <string_view>

namespace cb::app {

/// Appends `text` escaped as the inside of a JSON string: `"` and `\` are escaped, control
/// characters become \n, \r, \t, \b, \f or \u00XX, valid UTF-8 is copied as is, and each byte
/// of an invalid UTF-8 sequence becomes \ufffd (so the line is always valid JSON and UTF-8).
void append_json_escaped(std::string& out, std::string_view text);

/// Formats each record as
/// `{"time":"2026-03-02T09:00:00.000Z","level":"info","thread":1234,"message":"...",
///   "request_id":"...","delivery_id":"...","org":"..."}` followed by a newline. The last three
/// are copied from `request_id=`, `delivery_id=` and `org=` words of the message when present
/// (the convention of every log line on the request path), so they can be filtered on.
class JsonLogFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  [[nodiscard]] std::unique_ptr<spdlog::formatter> clone() const override;
};

}  // namespace cb::app
