-- sluice.oauth2 against a fake token endpoint (sluice.http.request), a fake
-- clock (sluice.now) and a fake sluice.sleep; the real C base64 and JSON.
-- Coroutines stand in for the gateway's concurrent headers_fn calls.
-- Run by tests/unit/test_lua.c.
local T = ...
local oauth2 = require "sluice.oauth2"

local URL = "http://127.0.0.1:9000/oauth/token"
local SECRET = "s3cr+t/=&~"      -- needs form encoding
local ID = "id:with space"

local function client(extra)
  local o = { token_url = URL, client_id = ID, client_secret = SECRET }
  for k, v in pairs(extra or {}) do o[k] = v end
  return oauth2.client_credentials(o)
end

local function req(batch_id, last_status, attempt)
  return { body = "[]", records = 1, attempt = attempt or 1,
           batch_id = batch_id, last_status = last_status, method = "POST",
           url = "http://127.0.0.1:9000/v1/contacts", connector = "crm" }
end

-- After every test: nothing logged may contain the secret or a token.
local function no_leaks(f, tokens)
  for _, line in ipairs(f.logs) do
    T.not_contains(line, SECRET, "log line")
    T.not_contains(line, "s3cr%2Bt", "log line")
    for _, tok in ipairs(tokens or {}) do T.not_contains(line, tok, "log line") end
  end
end

T.test("basic auth: the token request (RFC 6749 2.3.1, 4.4.2)", function()
  local f = T.fakes()
  f.answers[1] = f.token("tok-1", 3600)
  local tok = client { scope = "read write", audience = "https://api.example.com/" }
  T.eq(#f.calls, 0, "no request at construction")
  T.eq(tok:header(req("b1")), "Bearer tok-1")
  T.eq(#f.calls, 1)
  local c = f.calls[1]
  T.eq(c.method, "POST")
  T.eq(c.url, URL)
  T.eq(c.timeout_ms, 10000)
  T.eq(c.headers["Content-Type"], "application/x-www-form-urlencoded")
  T.eq(c.headers.Accept, "application/json")
  -- Python: base64.b64encode((quote_plus(ID, safe='') + ":" +
  --   quote_plus(SECRET, safe='')).encode())
  T.eq(c.headers.Authorization, "Basic aWQlM0F3aXRoK3NwYWNlOnMzY3IlMkJ0JTJGJTNEJTI2fg==")
  T.eq(sluice.base64_decode(c.headers.Authorization:sub(7)),
    "id%3Awith+space:s3cr%2Bt%2F%3D%26~")
  -- Python: urlencode([("grant_type", "client_credentials"),
  --   ("scope", "read write"), ("audience", "https://api.example.com/")])
  T.eq(c.body, "grant_type=client_credentials&scope=read+write"
    .. "&audience=https%3A%2F%2Fapi.example.com%2F")
  T.not_contains(c.body, "client_secret")
  no_leaks(f, { "tok-1" })
  T.ok(#f.logs >= 1, "the refresh is logged")
end)

T.test("post auth: credentials in the body, no Authorization", function()
  local f = T.fakes()
  f.answers[1] = f.token("tok-1", 3600)
  local tok = client { auth_method = "post", timeout_ms = 2500 }
  T.eq(tok:token(req("b1")), "tok-1")
  local c = f.calls[1]
  T.eq(c.headers.Authorization, nil)
  T.eq(c.timeout_ms, 2500)
  T.eq(c.body, "grant_type=client_credentials"
    .. "&client_id=id%3Awith+space&client_secret=s3cr%2Bt%2F%3D%26~")
end)

T.test("scope as a list, extra form parameters (sorted, encoded)", function()
  local f = T.fakes()
  f.answers[1] = f.token("tok-1", 3600)
  local tok = client { scope = { "contacts.write", "contacts.read" },
    extra = { resource = "urn:crm", b_flag = true, a_num = 5 } }
  tok:header(req("b1"))
  T.eq(f.calls[1].body, "grant_type=client_credentials"
    .. "&scope=contacts.write+contacts.read"
    .. "&a_num=5&b_flag=true&resource=urn%3Acrm")
end)

T.test("form encoding (application/x-www-form-urlencoded)", function()
  -- Python: quote_plus("a b&c=d/é~*", safe='')
  T.eq(oauth2._form_escape("a b&c=d/é~*"), "a+b%26c%3Dd%2F%C3%A9~%2A")
  T.eq(oauth2._form_escape("AZaz09-._~"), "AZaz09-._~")
end)

T.test("cached until expires_in - refresh_skew_s", function()
  local f = T.fakes()
  f.answers = { f.token("tok-1", 300), f.token("tok-2", 300) }
  local tok = client()                          -- skew 30 s by default
  local t0 = f.clock
  for i = 1, 100 do T.eq(tok:header(req(i)), "Bearer tok-1") end
  f.clock = t0 + 269.9
  T.eq(tok:header(req(101)), "Bearer tok-1", "before 300 - 30 s")
  T.eq(#f.calls, 1)
  f.clock = t0 + 270.0
  T.eq(tok:header(req(102)), "Bearer tok-2", "at 300 - 30 s")
  T.eq(#f.calls, 2)
  T.eq(tok:header(req(103)), "Bearer tok-2")
  T.eq(#f.calls, 2)
end)

T.test("custom skew; skew >= expires_in uses half the lifetime", function()
  local f = T.fakes()
  f.answers = { f.token("tok-1", 100), f.token("tok-2", 20), f.token("tok-3", 20) }
  local tok = client { refresh_skew_s = 10 }
  local t0 = f.clock
  tok:token()
  f.clock = t0 + 89.99
  T.eq(tok:token(), "tok-1")
  f.clock = t0 + 90
  T.eq(tok:token(), "tok-2")                    -- lifetime 20 - 10 = 10 s
  local t1 = f.clock
  f.clock = t1 + 9.99
  T.eq(tok:token(), "tok-2")
  f.clock = t1 + 10
  T.eq(tok:token(), "tok-3")

  f = T.fakes()
  f.answers = { f.token("tok-1", 20), f.token("tok-2", 20) }
  tok = client()                                -- skew 30 > 20: half, 10 s
  t0 = f.clock
  tok:token()
  f.clock = t0 + 9.9
  T.eq(tok:token(), "tok-1")
  f.clock = t0 + 10
  T.eq(tok:token(), "tok-2")
end)

T.test("expires_in absent means 3600 s; a numeric string is accepted", function()
  local f = T.fakes()
  f.answers = {
    { status = 200, body = '{"access_token":"tok-1","token_type":"bearer"}' },
    { status = 200, body = '{"access_token":"tok-2","expires_in":"120"}' },
    { status = 200, body = '{"access_token":"tok-3","expires_in":null}' },
  }
  local tok = client()
  local t0 = f.clock
  tok:token()
  f.clock = t0 + 3569
  T.eq(tok:token(), "tok-1")
  f.clock = t0 + 3570
  T.eq(tok:token(), "tok-2")
  local t1 = f.clock
  f.clock = t1 + 89
  T.eq(tok:token(), "tok-2")
  f.clock = t1 + 90
  T.eq(tok:token(), "tok-3")
  f.clock = f.clock + 3000
  T.eq(tok:token(), "tok-3")
  T.eq(#f.calls, 3)
end)

T.test("single flight: 50 concurrent callers, one request", function()
  local f = T.fakes()
  f.yield_in_request = true                     -- the request is in flight
  f.answers[1] = f.token("tok-1", 3600)
  local tok = client()
  local fns = {}
  for i = 1, 50 do
    fns[i] = function() return tok:header(req("batch-" .. i)) end
  end
  local res = T.run_all(fns)
  T.eq(#f.calls, 1, "token requests")
  for i = 1, 50 do
    T.ok(res[i].ok, "caller " .. i .. ": " .. tostring(res[i].value))
    T.eq(res[i].value, "Bearer tok-1")
  end
  T.ok(f.sleeps >= 49, "the waiters slept while the refresh ran")
end)

T.test("single flight: a failed refresh fails every waiter, once", function()
  local f = T.fakes()
  f.yield_in_request = true
  f.answers[1] = { status = 503, body = "try later" }
  local tok = client()
  local fns = {}
  for i = 1, 20 do fns[i] = function() return tok:header(req(i)) end end
  local res = T.run_all(fns)
  T.eq(#f.calls, 1)
  for i = 1, 20 do
    T.eq(res[i].ok, false, "caller " .. i)
    T.contains(res[i].value, "answered 503: try later")
  end
end)

T.test("single flight: the wait is bounded by timeout_ms", function()
  local f = T.fakes()
  f.answers[1] = f.token("tok-late", 3600)
  f.answers[2] = f.token("tok-2", 3600)
  f.yield_in_request = true
  local tok = client { timeout_ms = 2000 }
  -- This refresh yields inside http.request and is never resumed, as if
  -- its coroutine had been dropped.
  local stuck = coroutine.create(function() return tok:token(req("a")) end)
  T.eq(select(2, coroutine.resume(stuck)), "http")
  local t0 = f.clock
  local res = T.run_all({ function() return tok:token(req("b")) end })
  T.eq(res[1].ok, false)
  T.contains(res[1].value, "timed out after 2000 ms waiting for a token")
  T.ok(f.clock - t0 >= 2 and f.clock - t0 < 3.1, "waited about timeout_ms + 1 s")
  -- the next caller does not wait for the dead refresh: it fetches anew
  f.yield_in_request = false
  T.eq(tok:token(req("c")), "tok-2")
  T.eq(#f.calls, 2)
end)

T.test("401: the batch's token is discarded, once per token", function()
  local f = T.fakes()
  f.answers = { f.token("tok-1", 3600), f.token("tok-2", 3600),
                f.token("tok-3", 3600) }
  local tok = client()
  for i = 1, 200 do T.eq(tok:header(req(i)), "Bearer tok-1") end
  T.eq(#f.calls, 1)
  -- every batch comes back with 401: one refresh, not 200
  for i = 1, 200 do
    T.eq(tok:header(req(i, 401, 2)), "Bearer tok-2", "batch " .. i)
  end
  T.eq(#f.calls, 2, "token requests after 200 batches got 401")
  -- a batch that failed with tok-2 refreshes again (once)
  T.eq(tok:header(req(7, 401, 3)), "Bearer tok-3")
  T.eq(tok:header(req(8, 401, 3)), "Bearer tok-3")
  T.eq(#f.calls, 3)
  -- other statuses keep the token
  T.eq(tok:header(req(9, 500, 4)), "Bearer tok-3")
  T.eq(tok:header(req(9, 0, 5)), "Bearer tok-3")
  T.eq(#f.calls, 3)
  no_leaks(f, { "tok-1", "tok-2", "tok-3" })
  T.ok(#f.logs >= 2, "the 401 is logged (without the token)")
end)

T.test("401: many concurrent retries, one refresh", function()
  local f = T.fakes()
  f.answers = { f.token("tok-1", 3600), f.token("tok-2", 3600) }
  local tok = client()
  for i = 1, 100 do tok:header(req(i)) end
  f.yield_in_request = true
  local fns = {}
  for i = 1, 100 do
    fns[i] = function() return tok:header(req(i, 401, 2)) end
  end
  local res = T.run_all(fns)
  T.eq(#f.calls, 2)
  for i = 1, 100 do
    T.ok(res[i].ok, tostring(res[i].value))
    T.eq(res[i].value, "Bearer tok-2")
  end
end)

T.test("401: a batch that had an older token does not discard the new one", function()
  local f = T.fakes()
  f.answers = { f.token("tok-1", 60), f.token("tok-2", 60) }
  local tok = client()
  T.eq(tok:token(req("old")), "tok-1")
  f.clock = f.clock + 31                      -- expired: refreshed normally
  T.eq(tok:token(req("new")), "tok-2")
  T.eq(tok:token(req("old", 401, 2)), "tok-2")
  T.eq(#f.calls, 2)
  -- a batch never seen (e.g. sent before a restart) does not discard it
  -- either; if tok-2 is bad too, that batch's next 401 will
  T.eq(tok:token(req("unknown", 401, 2)), "tok-2")
  T.eq(tok:token(nil), "tok-2")
  T.eq(#f.calls, 2)
end)

T.test("401 memory is bounded: old batches are forgotten", function()
  local f = T.fakes()
  f.answers = { f.token("tok-1", 1e6), f.token("tok-2", 1e6) }
  local tok = client()
  tok:token(req("first"))
  for i = 1, 10000 do tok:token(req(i)) end
  collectgarbage()
  local kb = collectgarbage("count")
  for i = 10001, 60000 do tok:token(req(i)) end
  collectgarbage()
  T.ok(collectgarbage("count") - kb < 1024, "memory stays flat")
  T.eq(tok:token(req("first", 401, 2)), "tok-1", "forgotten: no refresh")
  T.eq(#f.calls, 1)
  T.eq(tok:token(req(59999, 401, 2)), "tok-2", "recent: refresh")
  T.eq(#f.calls, 2)
end)

T.test("invalidate() forces a new token", function()
  local f = T.fakes()
  f.answers = { f.token("tok-1", 3600), f.token("tok-2", 3600) }
  local tok = client()
  T.eq(tok:token(), "tok-1")
  tok:invalidate()
  T.eq(tok:token(), "tok-2")
  T.eq(tok:token(), "tok-2")
  T.eq(#f.calls, 2)
end)

T.test("errors: status and body start, never the secret", function()
  local f = T.fakes()
  f.answers = { { status = 401, body = '{"error":"invalid_client",'
    .. '"error_description":"bad secret ' .. SECRET .. '"}' } }
  local m = T.raises(function() client():header(req(1)) end,
    "sluice.oauth2: token endpoint " .. URL .. " answered 401: ")
  T.contains(m, '"error":"invalid_client"')
  T.contains(m, "bad secret ****")
  T.not_contains(m, SECRET)

  f = T.fakes()
  f.answers = { { status = 500, body = ("x"):rep(1000) .. "\nSECRET-TAIL" } }
  m = T.raises(function() client():header(req(1)) end, "answered 500: xxx")
  T.ok(#m < 400, "body cut to ~200 bytes (" .. #m .. ")")
  T.contains(m, ("x"):rep(200) .. "...")
  T.not_contains(m, "SECRET-TAIL")
  T.not_contains(m, "\n")

  f = T.fakes()
  f.answers = { { status = 500 } }
  T.raises(function() client():header(req(1)) end, "answered 500: (empty body)")
end)

T.test("errors: bad JSON, missing or bad access_token, transport", function()
  local f = T.fakes()
  f.answers = { { status = 200, body = "<html>oops</html>" } }
  T.raises(function() client():token() end,
    "answered 200 with a body that is not a JSON object: <html>oops</html>")

  f = T.fakes()
  f.answers = { { status = 200, body = '["tok"]' } }
  T.raises(function() client():token() end, "not a JSON object")

  f = T.fakes()
  f.answers = { { status = 200, body = '{"token_type":"bearer","expires_in":60}' } }
  T.raises(function() client():token() end, "answered 200 without access_token")

  f = T.fakes()
  f.answers = { { status = 200, body = '{"access_token":null}' } }
  T.raises(function() client():token() end, "without access_token")

  f = T.fakes()
  f.answers = { { status = 200, body = '{"access_token":12345}' } }
  local m = T.raises(function() client():token() end, "not a usable string")
  T.not_contains(m, "12345")

  f = T.fakes()
  f.answers = { { transport = "Failed to connect to 127.0.0.1 port 9000" } }
  T.raises(function() client():token() end, "sluice.oauth2: token request to "
    .. URL .. " failed: Failed to connect to 127.0.0.1 port 9000")

  -- user:password in the URL is not repeated in messages
  f = T.fakes()
  f.answers = { { status = 502, body = "bad gateway" } }
  m = T.raises(function()
    oauth2.client_credentials { token_url = "https://u:pw@auth.example.com/t",
      client_id = "a", client_secret = "longer-secret" }:token()
  end, "https://auth.example.com/t answered 502: bad gateway")
  T.not_contains(m, "pw@")
end)

T.test("errors are not cached beyond error_cooldown_ms; success resets", function()
  local f = T.fakes()
  f.answers = { { status = 500, body = "down" }, f.token("tok-1", 3600) }
  local tok = client()
  T.raises(function() tok:token(req(1)) end, "answered 500: down")
  T.eq(#f.calls, 1)
  f.clock = f.clock + 0.5
  T.raises(function() tok:token(req(2)) end, "(not retried for 1000 ms)")
  T.eq(#f.calls, 1, "within the cooldown the endpoint is not called")
  f.clock = f.clock + 0.5
  T.eq(tok:token(req(3)), "tok-1")
  T.eq(#f.calls, 2)

  f = T.fakes()
  f.answers = { { transport = "timeout" }, f.token("tok-1", 3600) }
  tok = client { error_cooldown_ms = 0 }
  T.raises(function() tok:token() end, "failed: timeout")
  T.eq(tok:token(), "tok-1")
end)

T.test("construction: options are checked when the connector loads", function()
  local function cc(o) return function() return oauth2.client_credentials(o) end end
  T.raises(cc { client_id = "a", client_secret = "b" },
    "token_url must be a non-empty string")
  T.raises(cc { token_url = "ftp://x/", client_id = "a", client_secret = "b" },
    "token_url must be an http:// or https:// URL")
  T.raises(cc { token_url = URL, client_secret = "b" },
    "client_id must be a non-empty string")
  T.raises(cc { token_url = URL, client_id = "a" }, "client_secret must be a string")
  T.raises(cc { token_url = URL, client_id = "a", client_secret = "b",
    auth_method = "jwt" }, 'auth_method must be "basic" or "post", got "jwt"')
  T.raises(cc { token_url = URL, client_id = "a", client_secret = "b",
    refresh_skew_s = -1 }, "refresh_skew_s must be a number >= 0")
  T.raises(cc { token_url = URL, client_id = "a", client_secret = "b",
    timeout_ms = 0 }, "timeout_ms must be an integer >= 1")
  T.raises(cc { token_url = URL, client_id = "a", client_secret = "b",
    timeout_ms = 2.5 }, "timeout_ms must be an integer >= 1, got 2.5")
  T.raises(cc { token_url = URL, client_id = "a", client_secret = "b",
    scope = 5 }, "scope must be a string or a list of strings")
  T.raises(cc { token_url = URL, client_id = "a", client_secret = "b",
    extra = { grant_type = "password" } }, "extra.grant_type: set by sluice")
  T.raises(cc { token_url = URL, client_id = "a", client_secret = "b",
    extra = { x = {} } }, "extra.x must be a string, number or boolean")
  local m = T.raises(cc { token_url = URL, client_id = "a",
    client_secret = "hunter2", clientsecret = "x" },
    'unknown option "clientsecret"')
  T.not_contains(m, "hunter2")
  T.raises(function() oauth2.client_credentials("x") end, "expects a table")
  -- the message names this file's line, not the module's
  m = T.raises(function() oauth2.client_credentials { token_url = URL } end)
  T.contains(m, "test_oauth2.lua:")
  T.contains(m, "sluice.oauth2: client_credentials: client_id")
end)

T.test("the object: method forms, no secret in tostring or fields", function()
  local f = T.fakes()
  f.answers = { f.token("tok-1", 3600) }
  local tok = client()
  T.eq(tok.header(req(1)), "Bearer tok-1", "dot call")
  T.eq(tok.token(), "tok-1")
  T.contains(tostring(tok), URL)
  T.not_contains(tostring(tok), SECRET)
  for k, v in pairs(tok) do
    T.eq(type(v), "function", "field " .. tostring(k))
  end
  T.eq(getmetatable(tok), false)
end)

T.test("a headers_fn as a connector writes it", function()
  local f = T.fakes()
  f.answers = { f.token("tok-1", 3600) }
  local tok = client()
  local headers_fn = function(r)
    return { Authorization = tok:header(r), ["Idempotency-Key"] = r.batch_id }
  end
  local res = T.run_all({ function() return headers_fn(req("b-1")) end })
  T.ok(res[1].ok, tostring(res[1].value))
  T.eq(res[1].value.Authorization, "Bearer tok-1")
  T.eq(res[1].value["Idempotency-Key"], "b-1")
end)
