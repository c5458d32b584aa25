-- wrk script for scripts/bench.sh: POST the same JSON body on every request.
--
--   BENCH_BODY=/path/body.json wrk -t1 -c32 -d20s --latency \
--     -s bench/post.lua http://127.0.0.1:PORT/v1/connectors/bench/records
--
-- The body file comes from $BENCH_BODY (or the first script argument after
-- `--`). The request is built once per thread; no Lua runs per request.
-- When the run ends, done() prints one line starting with "WRK_JSON " that
-- bench.sh parses (requests, duration, errors, latency percentiles in
-- microseconds).

local function read_file(path)
  local f = assert(io.open(path, "rb"), "bench/post.lua: cannot open " .. tostring(path))
  local s = f:read("*a")
  f:close()
  return s
end

local body_path = os.getenv("BENCH_BODY")

function init(args)
  if args and args[1] then
    body_path = args[1]
  end
  assert(body_path and body_path ~= "", "bench/post.lua: set BENCH_BODY or pass the body path after --")
  wrk.method = "POST"
  wrk.body = read_file(body_path)
  wrk.headers["Content-Type"] = "application/json"
end

-- BENCH_RATE (requests/s per wrk thread; bench.sh --rate): a delay()
-- that keeps each thread on a schedule from its first request, one slot
-- every 1/BENCH_RATE s shared by its connections (wrk calls delay() before
-- each request of a connection and waits that many ms; Debian's wrk 4.1
-- has no --rate). A connection that finds its slot past sends at once, so
-- a late run catches up instead of drifting. The clock is CLOCK_MONOTONIC
-- through LuaJIT's ffi (os.time has whole seconds only). Without
-- BENCH_RATE there is no delay() and wrk sends as fast as it can.
local rate = tonumber(os.getenv("BENCH_RATE") or "")
if rate and rate > 0 then
  local ffi = require("ffi")
  ffi.cdef([[
    typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
    int clock_gettime(int clk_id, bench_timespec *tp);
  ]])
  local ts = ffi.new("bench_timespec")
  local function now_ms()
    assert(ffi.C.clock_gettime(1, ts) == 0) -- 1: CLOCK_MONOTONIC
    return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
  end
  local interval_ms = 1000 / rate
  local next_ms
  function delay()
    local t = now_ms()
    next_ms = next_ms or t
    local d = next_ms - t
    next_ms = next_ms + interval_ms
    if d <= 0 then
      return 0
    end
    return math.floor(d + 0.5)
  end
end

-- No request() function on purpose: wrk's own wrk.init() calls init() above,
-- then formats the request once, and a script without request() is
-- "static" (no Lua call per request).

function done(summary, latency, requests)
  local e = summary.errors
  local p = {}
  for _, q in ipairs({ 50, 75, 90, 99, 99.9 }) do
    p[#p + 1] = string.format('"%s":%d', tostring(q), latency:percentile(q))
  end
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"mean":%.1f,"stdev":%.1f,"max":%d,%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.stdev, latency.max, table.concat(p, ",")))
end
