// Shared by the configuration tests: an Environment over a fixed map.

#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "app/config.hpp"

namespace cb::app::testing {

/// An Environment over `vars` (name → value); never reads the process environment.
inline Environment env_of(std::map<std::string, std::string> vars) {
  Environment env;
  env.lookup = [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  env.names = [vars] {
    std::vector<std::string> out;
    for (const auto& [name, value] : vars) out.push_back(name);
    return out;
  };
  return env;
}

}  // namespace cb::app::testing
