#pragma once
// Process-wide libgit2 initialisation.

#include <string>

#include "core/error.hpp"

namespace cb::git {

/// Initializes libgit2 for the whole process, exactly once, however many threads call it
/// concurrently (std::call_once). libgit2 is never shut down: mirrors may be used until the
/// process exits. Every function of this module that touches libgit2 calls this first, so callers
/// normally need not.
///
/// Errors: `internal` when git_libgit2_init fails (the same error is returned on every later call).
[[nodiscard]] Result<void> ensure_libgit2_initialized();

/// The message of libgit2's last error on this thread, or "libgit2 error <code>" when libgit2 set
/// none. May name a URL or a path; callers redact credentials before showing it.
[[nodiscard]] std::string last_libgit2_error_message(int code);

}  // namespace cb::git
