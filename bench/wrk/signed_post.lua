-- wrk script of scripts/bench: POSTs one signed Bitbucket DC repo:refs_changed body, every
-- request with its own X-Request-Id, and counts answers by status.
--
--   wrk -t2 -c64 -d10s -s bench/wrk/signed_post.lua URL -- BODY_FILE SIGNATURE RUN_TAG
--
-- BODY_FILE  the payload (sent as is; the signature covers only the body, so it is reused)
-- SIGNATURE  the X-Hub-Signature value, "sha256=<hex>"
-- RUN_TAG    prefix of the request ids, unique per run: "<RUN_TAG>-<thread>-<counter>"
--
-- done() prints one line starting with "CBBENCH " of key=value pairs that scripts/bench reads:
-- requests, duration_us, rps, ok_rps (2xx answers/s), p50_us, p90_us, p99_us, max_us, ok2xx, non2xx, s200, s202,
-- sother (non-2xx statuses as "code:count,..."), socket errors (connect, read, write, timeout).

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_no", #threads)
end

function init(args)
  local path = args[1]
  local f = assert(io.open(path, "rb"), "cannot open body file " .. tostring(path))
  local body = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json; charset=UTF-8"
  wrk.headers["User-Agent"] = "Atlassian HttpClient 4.2.0 / Bitbucket-8.19.1 (8019001) / Default"
  wrk.headers["X-Event-Key"] = "repo:refs_changed"
  wrk.headers["X-Hub-Signature"] = args[2]
  tag = (args[3] or "run") .. "-" .. tostring(thread_no) .. "-"
  counter = 0
  ok2xx = 0
  s200 = 0
  s202 = 0
  non2xx = 0
  other = {}
end

function request()
  counter = counter + 1
  wrk.headers["X-Request-Id"] = tag .. counter
  return wrk.format()
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    ok2xx = ok2xx + 1
    if status == 200 then
      s200 = s200 + 1
    elseif status == 202 then
      s202 = s202 + 1
    end
  else
    non2xx = non2xx + 1
    other[status] = (other[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local t_ok, t_200, t_202, t_non, t_other = 0, 0, 0, 0, {}
  for _, thread in ipairs(threads) do
    t_ok = t_ok + thread:get("ok2xx")
    t_200 = t_200 + thread:get("s200")
    t_202 = t_202 + thread:get("s202")
    t_non = t_non + thread:get("non2xx")
    -- a table cannot cross Lua states; read it field by field
    local o = thread:get("other")
    for code, n in pairs(o) do t_other[code] = (t_other[code] or 0) + n end
  end
  local parts = {}
  for code, n in pairs(t_other) do table.insert(parts, code .. ":" .. n) end
  table.sort(parts)
  local e = summary.errors
  local duration_s = summary.duration / 1e6
  io.write(string.format(
    "CBBENCH requests=%d duration_us=%d rps=%.1f ok_rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
    "ok2xx=%d non2xx=%d s200=%d s202=%d sother=%s connect_errors=%d read_errors=%d " ..
    "write_errors=%d timeouts=%d\n",
    summary.requests, summary.duration, summary.requests / duration_s, t_ok / duration_s,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    t_ok, t_non, t_200, t_202, (#parts > 0) and table.concat(parts, ",") or "-",
    e.connect, e.read, e.write, e.timeout))
end
