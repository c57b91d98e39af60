#pragma once
// Provider interface and registry keyed by provider id.

#include <span>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/event.hpp"
#include "core/raw_delivery.hpp"

namespace cb::providers {

/// One SCM's wire format. Implementations are stateless and thread-safe; they never touch the
/// store or sockets.
class Provider {
 public:
  virtual ~Provider() = default;
  /// Provider id, e.g. "bitbucket_server" (the same word in folder, config, database and API).
  [[nodiscard]] virtual std::string_view id() const noexcept = 0;
  /// True when the headers look like this provider's (used on the generic endpoints).
  [[nodiscard]] virtual bool detect(const RawDelivery& delivery) const = 0;
  /// The event key, e.g. "repo:refs_changed" (from X-Event-Key for Bitbucket DC); empty if none.
  [[nodiscard]] virtual std::string event_key(const RawDelivery& delivery) const = 0;
  /// The sender's delivery id (X-Request-Id for Bitbucket DC); empty if none.
  [[nodiscard]] virtual std::string external_id(const RawDelivery& delivery) const = 0;
  /// True for a connection test ("diagnostics:ping").
  [[nodiscard]] virtual bool is_ping(const RawDelivery& delivery) const = 0;
  /// Parses the body into a normalized event. Unknown event keys give UnsupportedEvent;
  /// a body that is not the provider's JSON gives ErrorCode::malformed_payload.
  [[nodiscard]] virtual Result<NormalizedEvent> parse(const RawDelivery& delivery) const = 0;
};

/// The provider with this id, or nullptr.
[[nodiscard]] const Provider* find_provider(std::string_view id) noexcept;

/// The first registered provider whose detect() accepts the delivery, or nullptr.
[[nodiscard]] const Provider* detect_provider(const RawDelivery& delivery) noexcept;

/// Every registered provider.
[[nodiscard]] std::span<const Provider* const> all_providers() noexcept;

}  // namespace cb::providers
