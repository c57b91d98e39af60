#include "smartcommit/analysis_json.hpp"

#include <boost/json/array.hpp>

namespace cb::smartcommit {

boost::json::object analysis_json(const Analysis& analysis) {
  namespace json = boost::json;
  json::array keys;
  for (const auto& k : analysis.keys) {
    keys.push_back(
        json::object{{"key", k.key}, {"kind", pattern_kind_name(k.kind)}, {"closing", k.closing}});
  }
  json::array commands;
  for (const auto& c : analysis.commands) {
    json::object o{{"key", c.key},
                   {"kind", command_kind_name(c.kind)},
                   {"command", c.command},
                   {"argument", c.argument},
                   {"line", c.line}};
    switch (c.kind) {
      case CommandKind::comment:
        o["comment"] = c.comment;
        break;
      case CommandKind::time:
        o["duration"] = c.duration;
        o["seconds"] = c.seconds;
        o["comment"] = c.comment;
        break;
      case CommandKind::transition:
        o["transition"] = c.transition;
        o["comment"] = c.comment;
        break;
    }
    commands.push_back(std::move(o));
  }
  json::array errors;
  for (const auto& e : analysis.errors) {
    errors.push_back(
        json::object{{"line", e.line}, {"command", e.command}, {"message", e.message}});
  }
  return json::object{
      {"keys", std::move(keys)}, {"commands", std::move(commands)}, {"errors", std::move(errors)}};
}

}  // namespace cb::smartcommit
