#pragma once
// The two kinds of webhook URL a user pastes into the SCM.

#include <optional>
#include <string_view>

namespace cb::pipeline {

/// What a delivery asks for: run CI jobs, or link commits to ALM stories.
enum class Endpoint { trigger_scm_push_request, sync_alm_commits };

/// The URL segment, "trigger-scm-push-request" or "sync-alm-commits".
[[nodiscard]] std::string_view to_string(Endpoint e) noexcept;
/// Parses a URL segment; nullopt for anything else.
[[nodiscard]] std::optional<Endpoint> parse_endpoint(std::string_view segment) noexcept;

}  // namespace cb::pipeline
