-- A small test harness for the Lua tests, loaded by tests/unit/test_lua.c
-- into each test file's fresh state and passed to the file as its first
-- argument (`local T = ...`). Not a test file itself (no test_ prefix).
--
-- T.test(name, fn)       register a test; T.run() runs them in order
-- T.eq, T.ok, T.contains, T.not_contains, T.raises   assertions
-- T.fakes()              fake clock, sleep, http.request and log for the
--                        `sluice` module; originals come back after the test
-- T.run_all(fns)         run functions as coroutines, round robin, the way
--                        the gateway interleaves headers_fn calls

local T = {}
local tests = {}

function T.test(name, fn) tests[#tests + 1] = { name = name, fn = fn } end

local function show(v)
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

function T.eq(got, want, what)
  if got ~= want then
    error(string.format("%sgot %s, want %s", what and (what .. ": ") or "",
      show(got), show(want)), 2)
  end
end

function T.ok(cond, what)
  if not cond then error("not true: " .. (what or "?"), 2) end
end

function T.contains(hay, needle, what)
  if type(hay) ~= "string" or not hay:find(needle, 1, true) then
    error(string.format("%s%s does not contain %s",
      what and (what .. ": ") or "", show(hay), show(needle)), 2)
  end
end

function T.not_contains(hay, needle, what)
  if type(hay) == "string" and hay:find(needle, 1, true) then
    error(string.format("%s%s contains %s", what and (what .. ": ") or "",
      show(hay), show(needle)), 2)
  end
end

-- fn must raise; returns the message (a string), checked against `needle`
-- (a plain substring) when given.
function T.raises(fn, needle)
  local ok, msg = pcall(fn)
  if ok then error("expected an error" ..
      (needle and (" containing " .. show(needle)) or ""), 2) end
  msg = tostring(msg)
  if needle and not msg:find(needle, 1, true) then
    error(string.format("error %s does not contain %s", show(msg),
      show(needle)), 2)
  end
  return msg
end

local function copy(t)
  if type(t) ~= "table" then return t end
  local c = {}
  for k, v in pairs(t) do c[k] = copy(v) end
  return c
end

-- Fakes for the parts of `sluice` that touch time and the network.
--   f.clock                 what sluice.now() returns (seconds, float)
--   f.answers               queue of scripted answers for http.request:
--                           a response table, { transport = "msg" } for
--                           nil, msg, or a function(opts) -> ...
--   f.calls                 copies of every request's options
--   f.yield_in_request      yield once inside http.request (in-flight)
--   f.sleeps, f.slept_ms    sluice.sleep accounting; sleep advances clock
--   f.logs                  every sluice.log line, "level: text"
local current_fakes
function T.fakes()
  local f = { clock = 1700000000.25, answers = {}, calls = {}, sleeps = 0,
              slept_ms = 0, logs = {}, yield_in_request = false }
  sluice.now = function() return f.clock end
  sluice.sleep = function(ms)
    f.sleeps = f.sleeps + 1
    f.slept_ms = f.slept_ms + ms
    f.clock = f.clock + ms / 1000
    if coroutine.isyieldable() then coroutine.yield("sleep") end
  end
  sluice.http = {
    request = function(opts)
      f.calls[#f.calls + 1] = copy(opts)
      local a = table.remove(f.answers, 1)
      if a == nil then error("fake http.request: no scripted answer left") end
      if f.yield_in_request and coroutine.isyieldable() then
        coroutine.yield("http")
      end
      if type(a) == "function" then return a(opts) end
      if a.transport then return nil, a.transport end
      return a
    end,
  }
  local function logger(level)
    return function(...)
      local parts = table.pack(...)
      for i = 1, parts.n do parts[i] = tostring(parts[i]) end
      f.logs[#f.logs + 1] = level .. ": " .. table.concat(parts, " ", 1, parts.n)
    end
  end
  sluice.log = { info = logger("info"), warn = logger("warn"),
                 error = logger("error") }
  -- a JSON token answer
  function f.token(tok, expires_in, status)
    local doc = { access_token = tok, token_type = "Bearer",
                  expires_in = expires_in }
    return { status = status or 200,
             headers = { ["content-type"] = "application/json" },
             body = sluice.json.encode(doc) }
  end
  current_fakes = f
  return f
end

-- Run each function as a coroutine, resuming them in turn until all are
-- done. Returns a list of { ok = bool, value = result or error message }.
function T.run_all(fns, max_rounds)
  local cos, res = {}, {}
  for i, fn in ipairs(fns) do cos[i] = coroutine.create(fn) end
  local live = #cos
  local rounds = 0
  while live > 0 do
    rounds = rounds + 1
    if rounds > (max_rounds or 100000) then
      error("run_all: coroutines still running after " .. rounds .. " rounds")
    end
    for i, co in ipairs(cos) do
      if coroutine.status(co) == "suspended" then
        local ok, v = coroutine.resume(co)
        if coroutine.status(co) == "dead" then
          res[i] = { ok = ok, value = v }
          live = live - 1
        elseif not ok then
          error("run_all: " .. tostring(v))
        end
      end
    end
  end
  return res
end

-- Runs every registered test; prints one line per test and returns
-- passed, failed.
function T.run()
  local saved = {}
  for _, k in ipairs({ "now", "sleep", "http", "log" }) do saved[k] = sluice[k] end
  local passed, failed = 0, 0
  for _, t in ipairs(tests) do
    current_fakes = nil
    local ok, msg = pcall(t.fn)
    for k in pairs(saved) do sluice[k] = saved[k] end
    if ok then
      passed = passed + 1
      print("  ok   " .. t.name)
    else
      failed = failed + 1
      print("  FAIL " .. t.name .. ": " .. tostring(msg))
    end
  end
  tests = {}
  return passed, failed
end

function T.current_fakes() return current_fakes end

return T
