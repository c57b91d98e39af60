#include "core/event.hpp"

namespace cb {

bool is_zero_hash(std::string_view hash) noexcept {
  for (char c : hash) {
    if (c != '0') return false;
  }
  return true;
}

std::string_view to_string(RefType t) noexcept {
  switch (t) {
    case RefType::branch:
      return "branch";
    case RefType::tag:
      return "tag";
    case RefType::other:
      return "other";
  }
  return "other";
}

std::string_view to_string(RefChangeType t) noexcept {
  switch (t) {
    case RefChangeType::add:
      return "add";
    case RefChangeType::update:
      return "update";
    case RefChangeType::remove:
      return "delete";
  }
  return "update";
}

std::string_view to_string(PullRequestAction a) noexcept {
  switch (a) {
    case PullRequestAction::opened:
      return "opened";
    case PullRequestAction::source_updated:
      return "source_updated";
    case PullRequestAction::target_changed:
      return "target_changed";
    case PullRequestAction::modified:
      return "modified";
    case PullRequestAction::merged:
      return "merged";
    case PullRequestAction::declined:
      return "declined";
    case PullRequestAction::deleted:
      return "deleted";
    case PullRequestAction::other:
      return "other";
  }
  return "other";
}

}  // namespace cb
