#include "git/libgit2_runtime.hpp"

#include <git2.h>

#include <mutex>

namespace cb::git {

Result<void> ensure_libgit2_initialized() {
  static std::once_flag once;
  static int init_result = 0;
  static std::string init_error;
  std::call_once(once, [] {
    init_result = git_libgit2_init();
    if (init_result < 0) init_error = last_libgit2_error_message(init_result);
  });
  if (init_result < 0) {
    return fail(ErrorCode::internal, "git support could not be initialized", init_error);
  }
  return {};
}

std::string last_libgit2_error_message(int code) {
  const git_error* e = git_error_last();
  if (e != nullptr && e->message != nullptr && e->message[0] != '\0') return e->message;
  return "libgit2 error " + std::to_string(code);
}

}  // namespace cb::git
