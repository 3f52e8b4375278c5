-- One wrk connection = one screen: a request, then the tick interval, then the next request.
-- Environment: PW_METHOD, PW_PATH, PW_BODY (file with the request body), PW_TICK_MS, PW_CONNS
-- (connections per wrk thread), PW_HEADERS (file of "Name: value" lines, e.g. a browser's).
local tick = tonumber(os.getenv("PW_TICK_MS") or "2000")
local conns = tonumber(os.getenv("PW_CONNS") or "1")
local method = os.getenv("PW_METHOD") or "GET"
local path = os.getenv("PW_PATH") or "/api/v1/versions"
local started = 0
local req = nil

local function slurp(name)
  if not name or name == "" then return nil end
  local f = assert(io.open(name, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

-- The tick GET holds the ETag of the last answer (If-None-Match), as assets/peakwatch.js does:
-- nothing moved -> 304. One ETag per wrk thread: every screen on it sees the same server state.
local headers = {}
local body = nil
local etag = nil
local held = nil

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
  local raw = slurp(os.getenv("PW_HEADERS"))
  if raw then
    for name, value in raw:gmatch("([^:\r\n]+):%s*([^\r\n]*)") do
      if name:lower() ~= "if-none-match" then headers[name] = value end
    end
  end
  body = slurp(os.getenv("PW_BODY"))
  req = wrk.format(method, path, headers, body)
end

function response(status, resp_headers, resp_body)
  if method == "GET" then
    etag = resp_headers["ETag"] or resp_headers["etag"] or etag
  end
end

-- The first tick of each screen falls anywhere in the first interval, as real screens opened
-- at different moments do; then every screen ticks once per interval.
function delay()
  started = started + 1
  if started <= conns then return math.random(0, tick) end
  return tick
end

function request()
  if etag ~= held then        -- format again only when the held ETag changed
    held = etag
    headers["If-None-Match"] = etag
    req = wrk.format(method, path, headers, body)
  end
  return req
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'PWJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50":%d,"p90":%d,"p95":%d,"p99":%d,"max":%d,"mean":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean))
end
