#include "pipeline/outbox_dispatcher.hpp"
#include "core/thread_name.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace cb::pipeline {

OutboxDispatcher::OutboxDispatcher(store::Store& store, const auth::SecretBox& box,
                                   AlmSender& sender, const Clock& clock, OutboxOptions options,
                                   ProjectKeyLister* lister)
    : store_(store),
      box_(box),
      sender_(sender),
      clock_(clock),
      options_(options),
      lister_(lister) {}

OutboxDispatcher::~OutboxDispatcher() { stop(); }

void OutboxDispatcher::start() {
  if (auto n = store_.recover_outbox(clock_.now_ms()); !n) {
    spdlog::error("outbox recovery failed: {}", n.error().detail);
  } else if (*n > 0) {
    spdlog::info("outbox: {} entries left sending by the previous run will be sent again", *n);
  }
  thread_ = std::thread([this] {
    set_thread_name("cb-outbox");
    loop();
  });
}

void OutboxDispatcher::notify() {
  {
    std::lock_guard lock(mutex_);
    wake_ = true;
  }
  cv_.notify_one();
}

void OutboxDispatcher::stop() {
  stopping_.store(true);
  notify();
  if (thread_.joinable()) thread_.join();
}

std::size_t OutboxDispatcher::drain() {
  std::size_t n = 0;
  while (!stopping_.load() && process_one()) ++n;
  update_backlog();
  return n;
}

std::int64_t OutboxDispatcher::retry_delay_ms(const OutboxOptions& options, int attempts,
                                              std::int64_t retry_after_ms) {
  if (retry_after_ms > 0) return std::min(retry_after_ms, options.max_backoff_ms);
  std::int64_t delay = std::clamp<std::int64_t>(options.base_backoff_ms, 0, options.max_backoff_ms);
  for (int i = 1; i < attempts && delay < options.max_backoff_ms; ++i) delay *= 2;
  return std::min(delay, options.max_backoff_ms);
}

bool OutboxDispatcher::process_one() {
  auto claimed = store_.claim_outbox_entry(clock_.now_ms());
  if (!claimed) {
    spdlog::error("outbox: cannot claim an entry: {}", claimed.error().detail);
    return false;
  }
  if (!*claimed) return false;
  const auto& [entry, connection] = **claimed;
  update_backlog();  // a send may take long: the gauge shows this entry while it is sending
  SendResult result;
  auto secret =
      connection.secret_sealed.empty()
          ? Result<std::string>{std::string{}}
          : box_.open(connection.secret_sealed, store::alm_secret_aad(connection.public_id));
  if (!secret) {
    result = SendResult::failed("the connection's secret cannot be decrypted with the current key");
  } else {
    try {
      result = sender_.send(entry, connection, *secret);
    } catch (const std::exception& e) {
      result = SendResult::retry_later(std::string("internal error: ") + e.what());
    }
  }
  const UnixMillis now = clock_.now_ms();
  std::string status;
  std::string error = result.error;
  UnixMillis next = 0;
  switch (result.kind) {
    case SendResult::Kind::sent:
      status = store::kOutboxSent;
      break;
    case SendResult::Kind::retry:
      if (entry.attempts < options_.max_attempts) {
        status = store::kOutboxPending;
        next = now + retry_delay_ms(options_, entry.attempts, result.retry_after_ms);
        error = "attempt " + std::to_string(entry.attempts) + " failed, will retry: " + error;
      } else {
        status = store::kOutboxDead;
        error = "gave up after " + std::to_string(entry.attempts) + " attempts: " + error;
      }
      break;
    case SendResult::Kind::permanent:
      status = store::kOutboxDead;
      break;
  }
  spdlog::info("outbox entry={} connection={} {} {} {} -> {}{}{}", entry.id, entry.connection_name,
               entry.action, entry.story_key, entry.commit_hash, status, error.empty() ? "" : ": ",
               error);
  if (auto r = store_.finish_outbox_entry(entry.id, status, error, now, next); !r) {
    spdlog::error("outbox entry={} cannot record outcome: {}", entry.id, r.error().detail);
  }
  return true;
}

void OutboxDispatcher::refresh_project_keys() {
  if (lister_ == nullptr) return;
  const UnixMillis now = clock_.now_ms();
  auto due = store_.alm_connections_to_refresh(now - options_.project_keys_refresh_ms);
  if (!due) {
    spdlog::error("outbox: cannot read connections to refresh: {}", due.error().detail);
    return;
  }
  for (const auto& c : *due) {
    if (stopping_.load()) return;
    std::vector<std::string> keys;
    std::string error;
    auto secret = c.secret_sealed.empty()
                      ? Result<std::string>{std::string{}}
                      : box_.open(c.secret_sealed, store::alm_secret_aad(c.public_id));
    if (!secret) {
      error = "the connection's secret cannot be decrypted with the current key";
    } else if (auto listed = lister_->list_project_keys(c, *secret); !listed) {
      error = listed.error().message;
    } else {
      keys = std::move(*listed);
    }
    if (!error.empty()) {
      spdlog::warn("alm connection {} ({}): project keys not refreshed: {}", c.public_id, c.name,
                   error);
    }
    if (auto r = store_.set_alm_project_keys(c.id, keys, error, clock_.now_ms()); !r) {
      spdlog::error("alm connection {}: cannot store project keys: {}", c.public_id,
                    r.error().detail);
    }
  }
}

void OutboxDispatcher::update_backlog() {
  if (options_.metrics == nullptr || options_.metrics->outbox_backlog == nullptr) return;
  if (auto n = store_.outbox_backlog(); n) {
    options_.metrics->outbox_backlog->set(static_cast<double>(*n));
  }
}

void OutboxDispatcher::loop() {
  while (!stopping_.load()) {
    refresh_project_keys();
    while (!stopping_.load() && process_one()) {
    }
    update_backlog();
    std::int64_t wait_ms = options_.poll_interval_ms;
    if (auto due = store_.next_outbox_due(); due && *due) {
      wait_ms = std::clamp<std::int64_t>(**due - clock_.now_ms(), 0, wait_ms);
    }
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, std::chrono::milliseconds(wait_ms),
                 [this] { return wake_ || stopping_.load(); });
    wake_ = false;
  }
}

}  // namespace cb::pipeline
