-- sluice.responses.per_item with fake res/req tables and the real
-- sluice.json. Run by tests/unit/test_lua.c.
local T = ...
local responses = require "sluice.responses"
local json = sluice.json

local function req(n, t)
  t = t or {}
  return { records = n, batch_id = t.batch_id or "b-1", attempt = t.attempt or 1,
           method = "POST", url = "http://127.0.0.1:9200/_bulk",
           connector = "bulk" }
end

local function res(status, body, t)
  t = t or {}
  return { status = status, body = body,
           headers = { ["content-type"] = "application/json" },
           truncated = t.truncated or false }
end

-- An Elasticsearch bulk answer: statuses[i] (a number) or a full item
-- table; action "index" unless given.
local function es(statuses, action, with_errors)
  local items, errors = {}, false
  for i, s in ipairs(statuses) do
    if type(s) == "table" then
      items[i] = s
      errors = true
    else
      local r = { _index = "users", _id = tostring(i), status = s }
      if s >= 300 then
        errors = true
        r.error = { type = "mapper_parsing_exception",
                    reason = "failed to parse field [email]" }
      end
      items[i] = { [action or "index"] = r }
    end
  end
  local doc = { took = 30, items = items }
  if with_errors ~= false then doc.errors = errors end
  return json.encode(doc)
end

local ES = { items = "items", status = "index.status",
             error = "index.error.reason" }

local function count(t) local n = 0; for _ in pairs(t) do n = n + 1 end; return n end

T.test("per_item returns a function usable as response_fn", function()
  T.eq(type(responses.per_item(ES)), "function")
end)

T.test("ES bulk: every item 201 -> nil (all delivered)", function()
  local fn = responses.per_item(ES)
  T.eq(fn(res(200, es({ 201, 201, 201 })), req(3)), nil)
  -- 200 (an update) is fine too
  T.eq(fn(res(200, es({ 200, 201 })), req(2)), nil)
end)

T.test("ES bulk: some 400 -> failed, not retried, with the reason", function()
  local fn = responses.per_item(ES)
  local r = fn(res(200, es({ 201, 400, 201, 400 })), req(4))
  T.eq(r.outcome, nil, "the status keeps its class")
  T.eq(#r.failed, 2)
  T.eq(r.failed[1].index, 2)
  T.eq(r.failed[1].retry, false)
  T.eq(r.failed[1].reason, "status 400: failed to parse field [email]")
  T.eq(r.failed[2].index, 4)
  T.eq(count(r.failed[1]), 3, "index, retry, reason")
  T.eq(count(r), 2, "failed and reason")
  T.contains(r.reason, "2 of 4 items failed")
end)

T.test("ES bulk: 429 and 5xx items are retried, 408 too", function()
  local fn = responses.per_item(ES)
  local r = fn(res(200, es({ 429, 201, 503, 400, 408, 500 })), req(6))
  T.eq(#r.failed, 5)
  local want = { { 1, true }, { 3, true }, { 4, false }, { 5, true }, { 6, true } }
  for i, w in ipairs(want) do
    T.eq(r.failed[i].index, w[1], "index " .. i)
    T.eq(r.failed[i].retry, w[2], "retry " .. i)
  end
  T.eq(r.failed[1].reason, "status 429: failed to parse field [email]")
  T.contains(r.reason, "1 refused, 4 to retry")
end)

T.test("a reason that is missing says the status", function()
  local fn = responses.per_item(ES)
  local body = json.encode { errors = true, items = {
    { index = { status = 201 } }, { index = { status = 409 } },
    { index = { status = 400, error = json.null } },
    { index = { status = 400, error = { reason = "" } } } } }
  local r = fn(res(200, body), req(4))
  T.eq(r.failed[1].reason, "status 409")
  T.eq(r.failed[2].reason, "status 400")
  T.eq(r.failed[3].reason, "status 400")
  -- no error path at all
  local fn2 = responses.per_item { items = "items", status = "index.status" }
  T.eq(fn2(res(200, body), req(4)).failed[1].reason, "status 409")
end)

T.test("\"*\" is each item's only key: index, create, update, delete", function()
  local fn = responses.per_item { items = "items", status = "*.status",
                                  error = "*.error.reason" }
  local body = json.encode { errors = true, items = {
    { index = { status = 201 } },
    { create = { status = 409, error = { type = "version_conflict_engine_exception",
                                         reason = "document already exists" } } },
    { update = { status = 200 } },
    { delete = { status = 404, error = { reason = "not found" } } } } }
  local r = fn(res(200, body), req(4))
  T.eq(#r.failed, 2)
  T.eq(r.failed[1].index, 2)
  T.eq(r.failed[1].reason, "status 409: document already exists")
  T.eq(r.failed[2].index, 4)
  T.eq(r.failed[2].reason, "status 404: not found")
end)

T.test("\"*\" on an item with several keys or none raises", function()
  local fn = responses.per_item { items = "items", status = "*.status" }
  local two = json.encode { items = { { index = { status = 201 } },
    { index = { status = 201 }, create = { status = 201 } } } }
  local msg = T.raises(function() fn(res(200, two), req(2)) end,
    "item 2 of 2 has no status at \"*.status\"")
  T.contains(msg, "exactly one key")
  local none = json.encode { items = { json.decode "{}" } }
  T.raises(function() fn(res(200, none), req(1)) end, "exactly one key")
end)

T.test("errors = false: items are not walked (the fast path)", function()
  local fn = responses.per_item { items = "items", status = "*.status",
                                  errors = "errors" }
  -- items without any status: walked, they would raise
  local body = json.encode { errors = false,
    items = { { index = {} }, { index = {} } } }
  T.eq(fn(res(200, body), req(2)), nil)
  -- errors = true: walked
  T.raises(function()
    fn(res(200, (body:gsub('"errors":false', '"errors":true'))), req(2))
  end, "has no status")
  -- errors missing: walked
  local r = fn(res(200, es({ 201, 400 }, "index", false)), req(2))
  T.eq(r.failed[1].index, 2)
  -- errors not a boolean: walked
  local odd = json.encode { errors = "no", items = { { index = { status = 500 } } } }
  T.eq(fn(res(200, odd), req(1)).failed[1].retry, true)
end)

T.test("errors = false is read from the text, without decoding", function()
  local fn = responses.per_item { items = "items", status = "*.status",
                                  errors = "errors" }
  -- what follows "errors":false is not read (nor checked)
  T.eq(fn(res(200, '{"took":3,"errors":false,"items":[{"ind'), req(2)), nil)
  T.eq(fn(res(200, ' {\n "took" : 30 , "x":"a b", "y":null, "z":-1.5e3,'
    .. ' "t":true, "errors" : false }'), req(1)), nil)
  -- "cannot tell" from the text: decoded, then read
  local raw = '{"meta":{"n":1},"errors":false,"items":[{"index":{}}]}'
  T.eq(fn(res(200, raw), req(1)), nil, "after a nested value")
  T.raises(function()
    fn(res(200, '{"meta":{"n":1},"errors":false,"items":[{"ind'), req(1))
  end, "not JSON")
  T.eq(fn(res(200, '{"items":[{"index":{}}],"errors":false}'), req(1)), nil,
    "after the items")
  T.eq(fn(res(200, '{"t\\u0041":1,"errors":false,"items":[]}'), req(1)), nil,
    "after an escaped key")
  -- "errors":true, "errors":0 or "errors":"false" are not false: walked
  for _, v in ipairs({ "true", "0", '"false"', "null", "falsey" }) do
    local body = '{"errors":' .. v .. ',"items":[{"index":{"status":400}}]}'
    local ok, r = pcall(fn, res(200, body), req(1))
    if v == "falsey" then
      T.ok(not ok, "invalid JSON raises")
    else
      T.eq(r.failed[1].index, 1, v)
    end
  end
  -- a nested errors path is read after decoding
  fn = responses.per_item { items = "items", status = "status",
                            errors = "meta.errors" }
  T.eq(fn(res(200, '{"meta":{"errors":false},"items":[{}]}'), req(1)), nil)
  T.raises(function() fn(res(200, '{"meta":{"errors":false},"items":[{'), req(1)) end,
    "not JSON")
end)

T.test("207 multi-status list with a message per item", function()
  local fn = responses.per_item { items = "results", status = "status",
                                  error = "message" }
  local body = json.encode { results = {
    { status = 201, id = "a" }, { status = 422, message = "email is invalid" },
    { status = 201 }, { status = 429, message = "slow down" } } }
  local r = fn(res(207, body), req(4))
  T.eq(#r.failed, 2)
  T.eq(r.failed[1].index, 2)
  T.eq(r.failed[1].retry, false)
  T.eq(r.failed[1].reason, "status 422: email is invalid")
  T.eq(r.failed[2].index, 4)
  T.eq(r.failed[2].retry, true)
end)

T.test("a top-level array: items = \"\" or \".\"", function()
  local body = '[{"status":200},{"status":400,"error":{"code":"E1","detail":"bad"}}]'
  for _, p in ipairs({ "", "." }) do
    local fn = responses.per_item { items = p, status = "status", error = "error" }
    local r = fn(res(207, body), req(2))
    T.eq(#r.failed, 1, p)
    T.eq(r.failed[1].index, 2)
    -- a table reason is JSON-encoded
    T.contains(r.failed[1].reason, "status 400: {")
    T.contains(r.failed[1].reason, '"detail":"bad"')
  end
end)

T.test("digit segments pick an array element, counting from 1", function()
  local fn = responses.per_item { items = "data.results", status = "status",
                                  error = "errors.1.message" }
  local body = json.encode { data = { results = {
    { status = 200 }, { status = 400, errors = { { message = "first" },
                                                 { message = "second" } } } } } }
  T.eq(fn(res(200, body), req(2)).failed[1].reason, "status 400: first")
end)

T.test("non-2xx answers return nil: the default classification", function()
  local fn = responses.per_item(ES)
  for _, st in ipairs({ 100, 199, 301, 400, 413, 429, 500, 503 }) do
    T.eq(fn(res(st, "<html>not json</html>"), req(2)), nil, "status " .. st)
  end
  -- even truncated, even empty
  T.eq(fn(res(503, "", { truncated = true }), req(2)), nil)
  T.eq(fn({ status = 0, body = "" }, req(2)), nil, "no status at all")
end)

T.test("a body that is not JSON raises, naming the status and a snippet", function()
  local fn = responses.per_item(ES)
  local msg = T.raises(function()
    fn(res(200, "<html>\n<body>Bad Gateway</body></html>"), req(1))
  end, "the 200 answer is not JSON")
  T.contains(msg, "<html>\\n<body>")
  -- a long body is cut in the message
  local long = "x" .. string.rep("y", 100000)
  msg = T.raises(function() fn(res(200, long), req(1)) end, "not JSON")
  T.ok(#msg < 400, "short message, got " .. #msg)
  T.raises(function() fn(res(200, ""), req(1)) end, "empty body")
  T.raises(function() fn(res(204, nil), req(1)) end, "the 204 answer has an empty body")
end)

T.test("a truncated answer raises: items past the cut cannot be read", function()
  local fn = responses.per_item(ES)
  local body = es({ 201, 201 })
  T.raises(function() fn(res(200, body, { truncated = true }), req(2)) end,
    "cut at max_response_bytes")
end)

T.test("items missing, not an array, or the wrong count raise", function()
  local fn = responses.per_item(ES)
  local msg = T.raises(function()
    fn(res(200, '{"took":3,"errors":false}'), req(5))
  end, 'expected an array of 5 results (one per record sent) at "items", found nothing')
  T.raises(function() fn(res(200, '{"items":{"a":1}}'), req(1)) end,
    "found an object")
  T.raises(function() fn(res(200, '{"items":null}'), req(1)) end, "found null")
  T.raises(function() fn(res(200, '{"items":"x"}'), req(1)) end, "found string")
  T.raises(function() fn(res(200, '"items"'), req(1)) end, "found nothing")
  msg = T.raises(function() fn(res(200, es({ 201, 201 })), req(3)) end,
    'expected 3 results at "items" (one per record sent), got 2')
  T.raises(function() fn(res(200, es({ 201, 201, 201 })), req(2)) end, "got 3")
  T.raises(function() fn(res(200, '{"items":[]}'), req(1)) end, "got 0")
  -- req.records is what the count is checked against
  T.raises(function() fn(res(200, es({ 201 })), { batch_id = "x" }) end,
    "req.records is nil")
end)

T.test("an item without a status raises, saying where it looked", function()
  local fn = responses.per_item(ES)
  local body = json.encode { items = { { index = { status = 201 } },
    { create = { status = 201 } } } }
  local msg = T.raises(function() fn(res(200, body), req(2)) end,
    'item 2 of 2 has no status at "index.status"')
  T.contains(msg, 'the item has no "index"')
  body = json.encode { items = { { index = { result = "created" } } } }
  T.raises(function() fn(res(200, body), req(1)) end,
    '"index" has no "status"')
  body = json.encode { items = { { index = "x" } } }
  T.raises(function() fn(res(200, body), req(1)) end,
    '"index" is string, not an object')
  body = '{"items":[null]}'
  T.raises(function() fn(res(200, body), req(1)) end, "the item is null")
end)

T.test("default_status stands in for a missing status", function()
  local fn = responses.per_item { items = "results", status = "status",
                                  error = "error", default_status = 200 }
  local body = '[{"id":1},{"status":null},{"status":400,"error":"nope"}]'
  local fn2 = responses.per_item { items = "", status = "status",
                                   error = "error", default_status = 200 }
  local r = fn2(res(207, body), req(3))
  T.eq(#r.failed, 1)
  T.eq(r.failed[1].index, 3)
  T.eq(r.failed[1].reason, "status 400: nope")
  T.raises(function() fn(res(200, '{"results":[{}]}'), req(2)) end, "got 1")
end)

T.test("hostile statuses: strings, fractions, out of range, tables", function()
  local fn = responses.per_item { items = "", status = "status" }
  -- a status as a three-digit string is read
  local r = fn(res(207, '[{"status":"201"},{"status":"503"}]'), req(2))
  T.eq(#r.failed, 1)
  T.eq(r.failed[1].index, 2)
  T.eq(r.failed[1].retry, true)
  T.eq(r.failed[1].reason, "status 503")
  local bad = { '"OK"', '"2010"', '" 201"', '201.5', '0', '99', '600', '-201',
                '1e400', 'true', '{"code":201}', '[201]', 'null', '""' }
  for _, v in ipairs(bad) do
    T.raises(function()
      fn(res(200, '[{"status":201},{"status":' .. v .. '}]'), req(2))
    end, "item 2 of 2", v)
  end
  T.raises(function() fn(res(200, '[{"status":"OK"}]'), req(1)) end,
    'the status at "status" is "OK", expected an HTTP status')
  T.raises(function() fn(res(200, '[{"status":null}]'), req(1)) end,
    'is null, expected')
  -- a huge string status is cut in the message
  local msg = T.raises(function()
    fn(res(200, '[{"status":"' .. string.rep("x", 100000) .. '"}]'), req(1))
  end, 'the status at "status" is "xxxx')
  T.ok(#msg < 300, "short message, got " .. #msg)
  -- 201.0 is 201
  T.eq(fn(res(200, '[{"status":201.0}]'), req(1)), nil)
end)

T.test("hostile reasons: huge strings and tables are cut, UTF-8 kept whole", function()
  local fn = responses.per_item { items = "", status = "status", error = "error" }
  local huge = {}
  for i = 1, 5000 do huge[i] = { field = "f" .. i, problem = "bad value" } end
  local body = json.encode { { status = 400, error = huge },
    { status = 400, error = string.rep("é", 10000) },
    { status = 400, error = 12.5 }, { status = 400, error = true } }
  local r = fn(res(207, body), req(4))
  T.eq(#r.failed, 4)
  for i = 1, 2 do
    local s = r.failed[i].reason
    T.ok(#s <= 303, "reason " .. i .. " cut, got " .. #s)
    T.ok(s:sub(-3) == "...", "reason " .. i .. " says it was cut")
    T.ok(utf8.len(s) ~= nil, "reason " .. i .. " is valid UTF-8")
  end
  T.contains(r.failed[1].reason, 'status 400: [{"')
  T.eq(r.failed[3].reason, "status 400: 12.5")
  T.eq(r.failed[4].reason, "status 400: true")
end)

T.test("hostile nesting: deep JSON raises cleanly, deep reasons are cut", function()
  local fn = responses.per_item { items = "", status = "status", error = "error" }
  -- beyond the decoder's depth limit: an error, not a crash
  local deep = string.rep("[", 5000) .. string.rep("]", 5000)
  T.raises(function() fn(res(200, deep), req(1)) end, "not JSON")
  -- deep, but decodable: the error object is encoded (or replaced) and cut
  local nest = string.rep('{"a":', 900) .. '1' .. string.rep("}", 900)
  local r = fn(res(200, '[{"status":400,"error":' .. nest .. '}]'), req(1))
  T.ok(#r.failed[1].reason <= 303, "cut")
  T.contains(r.failed[1].reason, "status 400: ")
end)

T.test("many items: only failures build anything", function()
  local fn = responses.per_item { items = "items", status = "*.status",
                                  error = "*.error.reason" }
  local st = {}
  for i = 1, 5000 do st[i] = (i % 1000 == 0) and 400 or 201 end
  local r = fn(res(200, es(st)), req(5000))
  T.eq(#r.failed, 5)
  T.eq(r.failed[5].index, 5000)
  for i = 1, 5000 do st[i] = 201 end
  T.eq(fn(res(200, es(st)), req(5000)), nil)
end)

T.test("retry and success options", function()
  local fn = responses.per_item { items = "", status = "status",
    retry = { 503, "4xx" }, success = { "2xx", 409 } }
  local r = fn(res(207, json.encode {
    { status = 409 }, { status = 400 }, { status = 500 }, { status = 503 },
    { status = 429 }, { status = 201 } }), req(6))
  T.eq(#r.failed, 4)
  local want = { { 2, true }, { 3, false }, { 4, true }, { 5, true } }
  for i, w in ipairs(want) do
    T.eq(r.failed[i].index, w[1], "index " .. i)
    T.eq(r.failed[i].retry, w[2], "retry " .. i)
  end
  -- retry = {} never retries an item; success wins over retry
  fn = responses.per_item { items = "", status = "status", retry = {},
                            success = { 200, 503 } }
  r = fn(res(200, '[{"status":503},{"status":201},{"status":429}]'), req(3))
  T.eq(#r.failed, 2)
  T.eq(r.failed[1].index, 2)
  T.eq(r.failed[1].retry, false)
  T.eq(r.failed[2].retry, false)
end)

T.test("bad options raise at construction, naming the key", function()
  local function bad(opts, needle)
    return T.raises(function() responses.per_item(opts) end, needle)
  end
  local msg = bad({ items = "items", status = "index.status", eror = "x" },
    'sluice.responses: per_item: unknown option "eror"')
  T.contains(msg, "valid: default_status, error, errors, items, retry, status, success")
  bad("items", "expects a table of options, got string")
  bad(nil, "got nil")
  bad({ status = "status" }, "items is missing")
  bad({ items = "" }, "status is missing")
  bad({ items = 3, status = "s" }, "items must be a path string")
  bad({ items = "", status = "" }, 'status must name a field of each item, got ""')
  bad({ items = "", status = "." }, "status must name a field")
  bad({ items = "a..b", status = "s" }, 'items: empty segment in path "a..b"')
  bad({ items = "", status = "s.", }, "empty segment")
  bad({ items = "", status = "s", error = {} }, "error must be a path string")
  bad({ items = "", status = "s", errors = "" }, "errors must name a field")
  bad({ items = "", status = "s", retry = 429 }, "retry must be a list of statuses")
  bad({ items = "", status = "s", retry = { 429, 700 } },
    "retry[2] must be an HTTP status (100..599)")
  bad({ items = "", status = "s", retry = { "6xx" } }, "retry[1]")
  bad({ items = "", status = "s", retry = { "429" } }, 'got "429"')
  bad({ items = "", status = "s", retry = { 429.5 } }, "got 429.5")
  bad({ items = "", status = "s", retry = { a = 1 } }, 'has the key "a"')
  bad({ items = "", status = "s", success = {} }, "success is an empty list")
  bad({ items = "", status = "s", default_status = "200" }, "default_status must be")
  bad({ items = "", status = "s", default_status = 42 }, "got 42")
  bad({ [1] = "items" }, "unknown option 1")
end)

T.test("construction errors name the connector file's line", function()
  local ok, msg = pcall(function()
    local fn = responses.per_item { items = "items", statuz = "x" }
    return fn                          -- not a tail call: a connector's line
  end)
  T.ok(not ok)
  T.contains(msg, "test_responses.lua:")
  T.contains(msg, 'unknown option "statuz"')
end)

T.test("a function is reusable and keeps no state between answers", function()
  local fn = responses.per_item(ES)
  local a = fn(res(200, es({ 400, 201 })), req(2))
  local b = fn(res(200, es({ 201, 429 })), req(2))
  T.eq(#a.failed, 1)
  T.eq(#b.failed, 1)
  T.eq(a.failed[1].index, 1)
  T.eq(b.failed[1].index, 2)
  T.ok(a.failed ~= b.failed, "a fresh list per answer")
end)
