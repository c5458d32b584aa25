-- sluice.responses: response_fn builders for destinations that answer a
-- batch with per-record results.
--
--   local responses = require "sluice.responses"
--   response_fn = responses.per_item {
--     items = "items", status = "*.status", error = "*.error.reason",
--     errors = "errors",
--   }
--
-- per_item checks its options once, when the connector file loads, and
-- returns a function(res, req) for response_fn. Only 2xx answers are read;
-- any other status returns nil (the connector's default classification).
-- An answer that does not have the expected shape raises an error, which
-- retries the whole batch and is logged: a bulk answer sluice cannot read
-- must not count as delivered.

local M = {}

local REASON_MAX = 300     -- bytes of an item's reason kept in a dead letter
local SNIPPET = 80         -- bytes of a bad answer put in an error message

-- Errors are raised without a position. per_item re-raises option errors
-- at level 2, so that they name the connector file's line; an error while
-- reading an answer needs none (a line of this file would not help).
local function fail(msg)
  error("sluice.responses: per_item: " .. msg, 0)
end

local SHOW_MAX = 40        -- bytes of a string value put in an error

local function show(v)
  if type(v) == "string" then
    if #v > SHOW_MAX then v = v:sub(1, SHOW_MAX) .. "..." end
    return (("%q"):format(v):gsub("\\\n", "\\n"))
  end
  if type(v) == "number" then return tostring(v) end
  return type(v)
end

-- ---- paths ---------------------------------------------------------------
--
-- A path is a dot-separated list of object keys: "index.error.reason".
-- "*" stands for the only key of an object (Elasticsearch bulk items are
-- { "index": {...} }, { "create": {...} }, ... by action). A segment of
-- digits also picks an array element, counting from 1. "" or "." is the
-- value itself (only for `items`: the body is the array).

local STAR = {}            -- the compiled "*" segment

-- A compiled path: segs[i] is a key or STAR; segs.num[i] the same segment
-- as an array index when it is all digits.
local function compile_path(name, p, allow_self)
  if type(p) ~= "string" then
    fail(("%s must be a path string such as \"index.status\", got %s")
      :format(name, type(p)))
  end
  local segs = { num = {} }
  if p == "" or p == "." then
    if allow_self then return segs end
    fail(("%s must name a field of each item, got %q"):format(name, p))
  end
  for seg in (p .. "."):gmatch("([^.]*)%.") do
    if seg == "" then
      fail(("%s: empty segment in path %q"):format(name, p))
    end
    local i = #segs + 1
    if seg == "*" then
      segs[i] = STAR
    else
      segs[i] = seg
      if seg:find("^%d+$") then segs.num[i] = tonumber(seg) end
    end
  end
  return segs
end

-- The value at a compiled path, or nil when any step is missing or not an
-- object/array. Allocates nothing.
local function walk(v, segs)
  for i = 1, #segs do
    if type(v) ~= "table" then return nil end
    local seg = segs[i]
    if seg == STAR then
      local k, only = next(v)
      if k == nil or next(v, k) ~= nil then return nil end
      v = only
    else
      local w = v[seg]
      if w == nil and segs.num[i] then w = v[segs.num[i]] end
      v = w
    end
  end
  return v
end

-- A function(v) returning walk(v, segs), made once per path; the shapes
-- that status paths have ("status", "index.status", "*.status") get their
-- own, which run in about half the instructions of walk.
local function getter(segs)
  local a, b = segs[1], segs[2]
  if #segs == 1 and a ~= STAR and not segs.num[1] then
    return function(v)
      if type(v) == "table" then return v[a] end
    end
  elseif #segs == 2 and b ~= STAR and not segs.num[1] and not segs.num[2] then
    if a == STAR then
      return function(v)
        if type(v) ~= "table" then return nil end
        local k, w = next(v)
        if k == nil or next(v, k) ~= nil or type(w) ~= "table" then
          return nil
        end
        return w[b]
      end
    end
    return function(v)
      if type(v) ~= "table" then return nil end
      v = v[a]
      if type(v) == "table" then return v[b] end
    end
  end
  return function(v) return walk(v, segs) end
end

-- Whether the body is an object whose top-level member `key` is false,
-- read from the text without decoding it: only members before it that are
-- scalars are skipped (Elasticsearch's {"took":3,"errors":false,...}); at
-- anything else the answer is "cannot tell" (false) and the body is decoded.
local MAX_SKIPPED = 8
local SCALARS = {                    -- a scalar member value, then a comma
  '^%-?%d[%d.eE+-]*%s*,%s*', '^"[^"\\]*"%s*,%s*', '^true%s*,%s*',
  '^false%s*,%s*', '^null%s*,%s*',
}
local function says_false(body, key)
  local _, e = body:find("^%s*{%s*")
  if not e then return false end
  for _ = 1, MAX_SKIPPED + 1 do
    local _, ke, k = body:find('^"([^"\\]*)"%s*:%s*', e + 1)
    if not ke then return false end
    if k == key then return body:find("^false%s*[,}]", ke + 1) ~= nil end
    e = nil
    for i = 1, #SCALARS do
      e = select(2, body:find(SCALARS[i], ke + 1))
      if e then break end
    end
    if not e then return false end
  end
  return false
end

local function path_text(segs, upto)
  local parts = {}
  for i = 1, upto do
    parts[i] = segs[i] == STAR and "*" or segs[i]
  end
  return table.concat(parts, ".")
end

-- Why walk(v, segs) found nothing: for error messages only.
local function why_missing(v, segs)
  for i = 1, #segs do
    local at = i == 1 and "the item" or ("%q"):format(path_text(segs, i - 1))
    if type(v) ~= "table" then
      return ("%s is %s, not an object"):format(at,
        v == sluice.json.null and "null" or type(v))
    end
    local seg = segs[i]
    if seg == STAR then
      local n = 0
      for _ in pairs(v) do n = n + 1; if n > 1 then break end end
      if n ~= 1 then
        return ("\"*\" expects %s to have exactly one key, it has %s")
          :format(at, n == 0 and "none" or "several")
      end
      local _, only = next(v)
      v = only
    else
      local w = v[seg]
      if w == nil and segs.num[i] then w = v[segs.num[i]] end
      if w == nil then
        return ("%s has no %q"):format(at, seg)
      end
      v = w
    end
  end
  return "the value is " .. (v == sluice.json.null and "null" or type(v))
end

-- ---- status sets -----------------------------------------------------------
--
-- A list of statuses: integers 100..599 and "Nxx" for a whole class, e.g.
-- { 429, "5xx" }. Compiled into a set indexed by status.

local function status_set(name, list)
  if type(list) ~= "table" then
    fail(("%s must be a list of statuses such as { 429, \"5xx\" }, got %s")
      :format(name, type(list)))
  end
  local set = {}
  local n = 0
  for k in pairs(list) do
    n = n + 1
    if math.type(k) ~= "integer" or k < 1 or k > #list then
      fail(("%s must be a list (a sequence), it has the key %s")
        :format(name, show(k)))
    end
  end
  for i = 1, n do
    local s = list[i]
    if math.type(s) == "integer" and s >= 100 and s <= 599 then
      set[s] = true
    elseif type(s) == "string" and s:find("^[1-5]xx$") then
      local base = tonumber(s:sub(1, 1)) * 100
      for c = base, base + 99 do set[c] = true end
    else
      fail(("%s[%d] must be an HTTP status (100..599) or a class such as "
        .. "\"5xx\", got %s"):format(name, i,
          show(s)))
    end
  end
  return set
end

local OK, RETRY, DROP = 1, 2, 3

-- klass[status] for every status 100..599: success wins over retry.
local function classes(success, retry)
  local k = {}
  for s = 100, 599 do
    k[s] = success[s] and OK or retry[s] and RETRY or DROP
  end
  return k
end

-- ---- reasons -----------------------------------------------------------

-- s cut to at most max bytes, not inside a UTF-8 sequence.
local function cut(s, max)
  if #s <= max then return s end
  local n = max
  while n > 0 do
    local b = s:byte(n + 1)
    if b < 0x80 or b >= 0xC0 then break end
    n = n - 1
  end
  return s:sub(1, n) .. "..."
end

local function reason_of(status, detail)
  local t = type(detail)
  local text
  if t == "string" then
    text = detail
  elseif t == "number" or t == "boolean" then
    text = tostring(detail)
  elseif t == "table" then
    local ok, enc = pcall(sluice.json.encode, detail)
    text = ok and enc or "(an error object that cannot be shown)"
  end
  if text == nil or text == "" then return "status " .. status end
  return cut("status " .. status .. ": " .. text, REASON_MAX)
end

local function snippet(body)
  return (("%q"):format(cut(body, SNIPPET)):gsub("\\\n", "\\n"))
end

-- ---- per_item ----------------------------------------------------------

local OPTIONS = {
  items = true, status = true, error = true, errors = true, retry = true,
  success = true, default_status = true,
}

local DEFAULT_RETRY = { 408, 429, "5xx" }
local DEFAULT_SUCCESS = { "2xx" }

local function check_options(opts)
  if type(opts) ~= "table" then
    fail("expects a table of options, got " .. type(opts))
  end
  for k in pairs(opts) do
    if not OPTIONS[k] then
      local names = {}
      for n in pairs(OPTIONS) do names[#names + 1] = n end
      table.sort(names)
      fail(("unknown option %s (valid: %s)")
        :format(show(k), table.concat(names, ", ")))
    end
  end
  if opts.items == nil then
    fail("items is missing: the path of the array of results, such as "
      .. "\"items\" (\"\" when the body itself is the array)")
  end
  if opts.status == nil then
    fail("status is missing: the path of each item's status, such as "
      .. "\"index.status\" (\"*.status\" for any Elasticsearch action)")
  end
end

local function per_item(opts)
  check_options(opts)
  local items_path = compile_path("items", opts.items, true)
  local status_path = compile_path("status", opts.status, false)
  local error_path = opts.error ~= nil
    and compile_path("error", opts.error, false) or nil
  local errors_path = opts.errors ~= nil
    and compile_path("errors", opts.errors, false) or nil
  local success = status_set("success", opts.success or DEFAULT_SUCCESS)
  if next(success) == nil then
    fail("success is an empty list: no item could ever be delivered")
  end
  local retry = status_set("retry", opts.retry or DEFAULT_RETRY)
  local klass = classes(success, retry)
  local default_status = opts.default_status
  if default_status ~= nil and (math.type(default_status) ~= "integer"
      or default_status < 100 or default_status > 599) then
    fail("default_status must be an HTTP status (100..599), got "
      .. show(default_status))
  end
  local status_of = getter(status_path)
  -- a top-level `errors` key can be read without decoding the body
  local errors_key = errors_path and #errors_path == 1
    and errors_path[1] ~= STAR and errors_path[1] or nil
  local items_name = opts.items
  local status_name = opts.status
  local decode = sluice.json.decode
  local null = sluice.json.null

  -- The status of item i, checked; raises when there is none.
  local function bad_status(item, i, n, s)
    if s == nil then
      fail(("item %d of %d has no status at %q: %s"):format(i, n,
        status_name, why_missing(item, status_path)))
    end
    fail(("item %d of %d: the status at %q is %s, expected an HTTP "
      .. "status (a number 100..599)"):format(i, n, status_name,
        s == null and "null" or show(s)))
  end

  return function(res, req)
    local st = res.status
    if type(st) ~= "number" or st < 200 or st > 299 then return nil end
    if res.truncated then
      fail(("the %d answer was cut at max_response_bytes (%d bytes "
        .. "kept); raise max_response_bytes to read every item's result")
        :format(st, #(res.body or "")))
    end
    local body = res.body
    if type(body) ~= "string" or body == "" then
      fail(("the %d answer has an empty body; expected JSON with "
        .. "one result per record at %q"):format(st, items_name))
    end
    if errors_key and says_false(body, errors_key) then return nil end
    local ok, doc = pcall(decode, body)
    if not ok then
      fail(("the %d answer is not JSON (%s): %s"):format(st,
        tostring(doc), snippet(body)))
    end
    local want = req.records
    if math.type(want) ~= "integer" then
      fail("req.records is " .. type(want)
        .. ", expected the number of records sent")
    end

    if errors_path and walk(doc, errors_path) == false then
      return nil
    end

    local items = walk(doc, items_path)
    if type(items) ~= "table" or (items[1] == nil and next(items) ~= nil) then
      fail(("expected an array of %d results (one per record sent) "
        .. "at %q, found %s"):format(want, items_name,
          items == nil and "nothing" or
          items == null and "null" or
          type(items) == "table" and "an object" or type(items)))
    end
    local n = #items
    if n ~= want then
      fail(("expected %d results at %q (one per record sent), got %d")
        :format(want, items_name, n))
    end

    local failed, nretry
    for i = 1, n do
      local item = items[i]
      local s = status_of(item)
      if default_status and (s == nil or s == null) then
        s = default_status
      end
      local k = klass[s]
      if k ~= OK then
        if k == nil then
          -- not an integer status in range: a number as a string is read
          local t = type(s) == "string" and s:find("^%d%d%d$")
            and tonumber(s) or nil
          k = t and klass[t]
          if not k then bad_status(item, i, n, s) end
          s = t
        end
        if k ~= OK then
          s = math.tointeger(s)      -- the decoder gives 400.0
          failed = failed or {}
          local again = k == RETRY
          if again then nretry = (nretry or 0) + 1 end
          failed[#failed + 1] = {
            index = i, retry = again,
            reason = reason_of(s, error_path and walk(item, error_path)),
          }
        end
      end
    end
    if not failed then return nil end
    nretry = nretry or 0
    -- no outcome: the status keeps its class (the connector's `status`
    -- lists included), and `failed` applies when that class is success
    return {
      failed = failed,
      reason = ("%d of %d items failed (%d refused, %d to retry)")
        :format(#failed, n, #failed - nretry, nretry),
    }
  end
end

M.per_item = function(opts)
  local ok, res = pcall(per_item, opts)
  if not ok then error(res, 2) end
  return res
end

return M
