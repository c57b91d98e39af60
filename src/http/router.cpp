#include "http/router.hpp"

#include <algorithm>
#include <boost/url/pct_string_view.hpp>

namespace cb::http {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::optional<std::string> decode_segment(std::string_view segment) {
  auto pct = boost::urls::make_pct_string_view(segment);
  if (!pct) return std::nullopt;
  return pct->decode();
}

}  // namespace

void Router::add(boost::beast::http::verb method, std::string pattern, Handler handler,
                 HeaderCheck check) {
  std::vector<std::string> segments;
  for (auto s : split_path(pattern)) segments.emplace_back(s);
  routes_.push_back(
      Route{method, std::move(pattern), std::move(segments), std::move(handler), std::move(check)});
}

Router::Match Router::match(boost::beast::http::verb method, std::string_view target) const {
  Match result;
  const auto query = target.find('?');
  const auto path = split_path(target.substr(0, query));
  for (const auto& route : routes_) {
    if (route.segments.size() != path.size()) continue;
    std::vector<std::pair<std::string, std::string>> params;
    bool ok = true;
    for (std::size_t i = 0; i < path.size() && ok; ++i) {
      const auto& seg = route.segments[i];
      if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}') {
        auto decoded = decode_segment(path[i]);
        if (!decoded || decoded->empty()) {
          ok = false;
        } else {
          params.emplace_back(seg.substr(1, seg.size() - 2), std::move(*decoded));
        }
      } else {
        ok = seg == path[i];
      }
    }
    if (!ok) continue;
    if (route.method != method) {
      result.path_matched = true;
      if (std::find(result.allowed.begin(), result.allowed.end(), route.method) ==
          result.allowed.end()) {
        result.allowed.push_back(route.method);
      }
      continue;
    }
    result.handler = &route.handler;
    if (route.check) result.check = &route.check;
    result.params = std::move(params);
    result.path_matched = false;
    result.allowed.clear();
    return result;
  }
  return result;
}

std::vector<std::pair<std::string, std::string>> Router::routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& r : routes_) out.emplace_back(std::string(to_string(r.method)), r.pattern);
  return out;
}

}  // namespace cb::http
