// The provider registry: one static, stateless instance per provider, in detection order.

#include <array>

#include "providers/bitbucket_server/parser.hpp"
#include "providers/provider.hpp"

namespace cb::providers {

namespace {

/// The registered providers, built on first use (safe to call from other static initializers).
/// Detection order matters: a provider that checks for the absence of other providers' markers
/// (Bitbucket Server) may come first only while those markers are exhaustive.
const std::array<const Provider*, 1>& registry() noexcept {
  static const bitbucket_server::BitbucketServerProvider bitbucket_server_provider;
  static const std::array<const Provider*, 1> providers{&bitbucket_server_provider};
  return providers;
}

}  // namespace

const Provider* find_provider(std::string_view id) noexcept {
  for (const Provider* p : registry()) {
    if (p->id() == id) return p;
  }
  return nullptr;
}

const Provider* detect_provider(const RawDelivery& delivery) noexcept {
  for (const Provider* p : registry()) {
    if (p->detect(delivery)) return p;
  }
  return nullptr;
}

std::span<const Provider* const> all_providers() noexcept { return registry(); }

}  // namespace cb::providers
