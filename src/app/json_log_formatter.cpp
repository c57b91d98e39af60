#include "app/json_log_formatter.hpp"

#include <spdlog/details/log_msg.h>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace cb::app {
namespace {

/// Length of the valid UTF-8 sequence starting at text[i], or 0 when it is not one (overlong
/// forms, surrogates and code points above U+10FFFF are invalid).
std::size_t utf8_sequence(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  std::size_t len = 0;
  unsigned lo = 0x80;
  unsigned hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (i + len > text.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
  }
  return len;
}

/// The value of the first `key=` word of `message` (up to the next space), or empty.
std::string_view word_value(std::string_view message, std::string_view key) {
  std::size_t from = 0;
  while (true) {
    const auto at = message.find(key, from);
    if (at == std::string_view::npos) return {};
    const bool starts_word = at == 0 || message[at - 1] == ' ';
    const auto eq = at + key.size();
    if (starts_word && eq < message.size() && message[eq] == '=') {
      const auto begin = eq + 1;
      auto end = message.find(' ', begin);
      if (end == std::string_view::npos) end = message.size();
      return message.substr(begin, end - begin);
    }
    from = at + 1;
  }
}

void append_field(std::string& line, std::string_view name, std::string_view value) {
  line += ",\"";
  line += name;
  line += "\":\"";
  append_json_escaped(line, value);
  line += '"';
}

}  // namespace

void append_json_escaped(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        default:
          if (c < 0x20 || c == 0x7f) {
            out += "\\u00";
            out += kHex[c >> 4];
            out += kHex[c & 0xf];
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    const std::size_t len = utf8_sequence(text, i);
    if (len == 0) {
      out += "\\ufffd";
      ++i;
    } else {
      out.append(text.substr(i, len));
      i += len;
    }
  }
}

void JsonLogFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  const auto since_epoch = msg.time.time_since_epoch();
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count() % 1000;
  const std::time_t secs = std::chrono::system_clock::to_time_t(msg.time);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char time_text[96];
  std::snprintf(time_text, sizeof time_text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(millis < 0 ? millis + 1000 : millis));

  const std::string_view message(msg.payload.data(), msg.payload.size());
  const auto level = spdlog::level::to_string_view(msg.level);
  std::string line;
  line.reserve(message.size() + 128);
  line += "{\"time\":\"";
  line += time_text;
  line += "\",\"level\":\"";
  line.append(level.data(), level.size());
  line += "\",\"thread\":";
  line += std::to_string(msg.thread_id);
  line += ",\"message\":\"";
  append_json_escaped(line, message);
  line += '"';
  for (const std::string_view key : {"request_id", "delivery_id", "org"}) {
    const auto value = word_value(message, key);
    if (!value.empty()) append_field(line, key, value);
  }
  line += "}\n";
  dest.append(line.data(), line.data() + line.size());
}

std::unique_ptr<spdlog::formatter> JsonLogFormatter::clone() const {
  return std::make_unique<JsonLogFormatter>();
}

}  // namespace cb::app
