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
