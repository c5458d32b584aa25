-- sluice.oauth2: OAuth 2.0 client credentials grant (RFC 6749 section 4.4)
-- with a cached, shared, single-flight access token.
--
--   local oauth2 = require "sluice.oauth2"
--   local token = oauth2.client_credentials {
--     token_url = "https://auth.example.com/oauth/token",
--     client_id = sluice.env "CRM_ID", client_secret = sluice.env "CRM_SECRET",
--   }
--   headers_fn = function(req) return { Authorization = token:header(req) } end
--
-- token:header(req) / token:token(req) run inside headers_fn, which the
-- gateway runs as a coroutine: sluice.http.request and sluice.sleep suspend
-- it without blocking the event loop. Any failure raises an error, which
-- fails that attempt only; the gateway retries the batch later.
--
-- Never logged or put in an error message: the client secret, the Basic
-- credentials, the access token.

local M = {}

local OPTIONS = {
  token_url = true, client_id = true, client_secret = true, scope = true,
  audience = true, auth_method = true, refresh_skew_s = true,
  timeout_ms = true, extra = true, error_cooldown_ms = true,
}

local DEFAULT_EXPIRES_IN = 3600   -- seconds, when the answer has none
local BATCH_MEMORY = 10000        -- batches whose token we remember
local STALE_GRACE_S = 1           -- beyond timeout_ms, before a refresh
                                  -- that never finished is abandoned
local WAIT_STEP_MS = 5            -- poll interval while another refreshes
local SNIPPET = 200               -- bytes of a bad answer put in errors

-- application/x-www-form-urlencoded (RFC 6749 appendix B, the HTML form
-- encoding): unreserved bytes as is, space as "+", the rest as %XX.
local function form_escape(s)
  s = tostring(s)
  s = s:gsub("[^A-Za-z0-9%-._~ ]", function(c)
    return string.format("%%%02X", c:byte())
  end)
  return (s:gsub(" ", "+"))
end

-- Option errors are raised without a position; client_credentials re-raises
-- them at level 2, so that they name the connector file's line.
local function fail(msg)
  error("sluice.oauth2: client_credentials: " .. msg, 0)
end

local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks, function(a, b) return tostring(a) < tostring(b) end)
  return ks
end

local function check_string(opts, k, required)
  local v = opts[k]
  if v == nil and not required then return nil end
  if type(v) ~= "string" or (required and v == "") then
    fail(("%s must be a non-empty string, got %s"):format(k,
      v == "" and "an empty string" or type(v)))
  end
  return v
end

local function check_number(opts, k, default, min)
  local v = opts[k]
  if v == nil then return default end
  if type(v) ~= "number" or v ~= v or v < min or v == math.huge then
    fail(("%s must be a number >= %s, got %s"):format(k, min,
      type(v) == "number" and tostring(v) or type(v)))
  end
  return v
end

local function check_integer(opts, k, default, min)
  local v = opts[k]
  if v == nil then return default end
  local i = math.tointeger(v)
  if not i or i < min then
    fail(("%s must be an integer >= %d, got %s"):format(k, min,
      type(v) == "number" and tostring(v) or type(v)))
  end
  return i
end

-- The token URL as it may appear in messages: without user:password@.
local function display_url(u)
  return (u:gsub("^(%a[%w+.-]*://)[^/@]*@", "%1"))
end

local function client_credentials(opts)
  if type(opts) ~= "table" then
    fail("expects a table of options, got " .. type(opts))
  end
  for k in pairs(opts) do
    if not OPTIONS[k] then
      fail(("unknown option %q (valid: %s)"):format(tostring(k),
        table.concat(sorted_keys(OPTIONS), ", ")))
    end
  end

  local token_url = check_string(opts, "token_url", true)
  if not token_url:find("^[Hh][Tt][Tt][Pp][Ss]?://[^/]") then
    fail("token_url must be an http:// or https:// URL")
  end
  local client_id = check_string(opts, "client_id", true)
  local client_secret = opts.client_secret
  if type(client_secret) ~= "string" then
    fail("client_secret must be a string, got " .. type(client_secret))
  end
  local audience = check_string(opts, "audience", false)
  if audience == "" then audience = nil end

  local scope = opts.scope
  if type(scope) == "table" then            -- { "read", "write" }
    for i, s in ipairs(scope) do
      if type(s) ~= "string" then
        fail(("scope[%d] must be a string, got %s"):format(i, type(s)))
      end
    end
    scope = table.concat(scope, " ")
  elseif scope ~= nil and type(scope) ~= "string" then
    fail("scope must be a string or a list of strings, got " .. type(scope))
  end
  if scope == "" then scope = nil end

  local auth_method = opts.auth_method
  if auth_method == nil then auth_method = "basic" end
  if auth_method ~= "basic" and auth_method ~= "post" then
    fail(("auth_method must be \"basic\" or \"post\", got %s"):format(
      type(auth_method) == "string" and ("%q"):format(auth_method)
        or type(auth_method)))
  end

  local skew = check_number(opts, "refresh_skew_s", 30, 0)
  local timeout_ms = check_integer(opts, "timeout_ms", 10000, 1)
  local cooldown_s = check_integer(opts, "error_cooldown_ms", 1000, 0) / 1000

  local extra = opts.extra
  if extra ~= nil and type(extra) ~= "table" then
    fail("extra must be a table of form parameters, got " .. type(extra))
  end
  local reserved = { grant_type = true, client_id = true,
                     client_secret = true, scope = true, audience = true }
  local extra_pairs = {}
  for _, k in ipairs(extra and sorted_keys(extra) or {}) do
    local v = extra[k]
    if type(k) ~= "string" or k == "" then
      fail("extra: keys must be non-empty strings")
    end
    if reserved[k] then
      fail(("extra.%s: set by sluice; use the option of that name"):format(k))
    end
    local tv = type(v)
    if tv ~= "string" and tv ~= "number" and tv ~= "boolean" then
      fail(("extra.%s must be a string, number or boolean, got %s")
        :format(k, tv))
    end
    extra_pairs[#extra_pairs + 1] = form_escape(k) .. "=" .. form_escape(v)
  end

  -- The request, built once.
  local form = { "grant_type=client_credentials" }
  if scope then form[#form + 1] = "scope=" .. form_escape(scope) end
  if audience then form[#form + 1] = "audience=" .. form_escape(audience) end
  for _, p in ipairs(extra_pairs) do form[#form + 1] = p end
  if auth_method == "post" then
    form[#form + 1] = "client_id=" .. form_escape(client_id)
    form[#form + 1] = "client_secret=" .. form_escape(client_secret)
  end
  local body = table.concat(form, "&")
  local basic_creds = auth_method == "basic"
    and (form_escape(client_id) .. ":" .. form_escape(client_secret)) or nil
  local basic_header            -- computed on first use (needs base64)
  local where = display_url(token_url)
  local timeout_s = timeout_ms / 1000

  -- Text from the token endpoint, safe for a message: at most SNIPPET
  -- bytes, one line, the secret masked wherever it was echoed.
  local function snippet(s)
    s = tostring(s or "")
    local cut = #s > SNIPPET
    -- enough to mask a secret that straddles the cut
    s = s:sub(1, SNIPPET + 3 * #client_secret)
    if client_secret ~= "" then
      for _, needle in ipairs({ client_secret, form_escape(client_secret) }) do
        local from = 1
        while true do
          local i, j = s:find(needle, from, true)
          if not i then break end
          s = s:sub(1, i - 1) .. "****" .. s:sub(j + 1)
          from = i + 4
        end
      end
    end
    s = s:sub(1, SNIPPET):gsub("[%c\127]", " ")
    if s == "" then return "(empty body)" end
    return s .. (cut and "..." or "")
  end

  local function err(msg) error("sluice.oauth2: " .. msg, 0) end

  -- One request to the token endpoint. Returns token, expires_in.
  local function fetch()
    local http = sluice.http
    if type(http) ~= "table" or type(http.request) ~= "function" then
      err("sluice.http.request is not available (tokens are fetched only "
        .. "while delivering, from headers_fn)")
    end
    local headers = {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      Accept = "application/json",
    }
    if basic_creds then
      basic_header = basic_header
        or ("Basic " .. sluice.base64_encode(basic_creds))
      headers.Authorization = basic_header
    end
    local resp, terr = http.request {
      method = "POST", url = token_url, headers = headers, body = body,
      timeout_ms = timeout_ms,
    }
    if not resp then
      err(("token request to %s failed: %s"):format(where, snippet(terr)))
    end
    local status = resp.status
    if type(status) ~= "number" or status < 200 or status > 299 then
      err(("token endpoint %s answered %s: %s")
        :format(where, tostring(status), snippet(resp.body)))
    end
    local ok, doc = pcall(sluice.json.decode, resp.body or "")
    if not ok or type(doc) ~= "table" or doc[1] ~= nil then
      err(("token endpoint %s answered %d with a body that is not a JSON "
        .. "object: %s"):format(where, status, snippet(resp.body)))
    end
    local at = doc.access_token
    if at == nil or at == sluice.json.null then
      err(("token endpoint %s answered %d without access_token: %s")
        :format(where, status, snippet(resp.body)))
    end
    if type(at) ~= "string" or at == "" or at:find("[%c\127]") then
      -- the body holds whatever it is: do not echo it
      err(("token endpoint %s answered %d with an access_token that is not "
        .. "a usable string"):format(where, status))
    end
    local expires_in = tonumber(doc.expires_in)
    if not expires_in or expires_in ~= expires_in or expires_in <= 0
        or expires_in == math.huge then
      expires_in = DEFAULT_EXPIRES_IN
    end
    if expires_in > 1e9 then expires_in = 1e9 end
    return at, expires_in
  end

  local function log(level, msg)
    local l = sluice.log
    if type(l) == "table" and type(l[level]) == "function" then
      l[level]("sluice.oauth2: " .. msg)
    end
  end

  -- ---- state, shared by every batch of this connector ------------------
  local cur = {
    token = nil,        -- the cached access token, or nil
    serial = 0,         -- increases with every token fetched
    expires_at = 0,     -- sluice.now() after which it is refreshed
    flight = nil,       -- the refresh in progress: { started, done, err }
    failed_at = nil,    -- time and message of the last failed refresh
    failed_err = nil,
  }

  -- batch_id -> serial of the token that batch got last; two generations,
  -- so at most BATCH_MEMORY entries and each operation O(1).
  local seen_new, seen_old, seen_n = {}, {}, 0
  local function remember(req, serial)
    local id = type(req) == "table" and req.batch_id
    if id == nil or id == false then return end
    if seen_new[id] == nil then
      seen_n = seen_n + 1
      if seen_n > BATCH_MEMORY // 2 then
        seen_old, seen_new, seen_n = seen_new, {}, 1
      end
    end
    seen_new[id] = serial
  end
  local function recall(id)
    local s = seen_new[id]
    if s == nil then s = seen_old[id] end
    return s
  end

  local function invalidate()
    cur.token = nil
    cur.expires_at = 0
  end

  local function refresh(req)
    local fl = { started = sluice.now() }
    cur.flight = fl
    local ok, at, expires_in = pcall(fetch)
    fl.done = true
    if cur.flight == fl then cur.flight = nil end
    if not ok then
      if type(at) ~= "string" then at = "sluice.oauth2: " .. tostring(at) end
      fl.err = at
      cur.failed_at, cur.failed_err = sluice.now(), at
      error(at, 0)
    end
    cur.failed_at, cur.failed_err = nil, nil
    local life = expires_in - skew
    if life <= 0 then life = expires_in / 2 end
    cur.serial = cur.serial + 1
    cur.token = at
    cur.expires_at = fl.started + life
    remember(req, cur.serial)
    log("info", ("fetched a token from %s (expires in %d s)")
      :format(where, math.floor(expires_in)))
    return at
  end

  local function get_token(req)
    if type(req) == "table" and req.last_status == 401 and cur.token then
      -- The destination refused this batch's last token. Throw it away
      -- only if it is still the cached one: when many batches fail at
      -- once, the first one refreshes and the others take the new token.
      local s = req.batch_id ~= nil and recall(req.batch_id)
      if s and s == cur.serial then
        invalidate()
        log("warn", ("destination answered 401; discarding the cached "
          .. "token from %s"):format(where))
      end
    end

    local now = sluice.now()
    while true do
      if cur.token and now < cur.expires_at then
        remember(req, cur.serial)
        return cur.token
      end
      local fl = cur.flight
      if not fl then break end
      -- Another coroutine is fetching: wait for that one refresh and
      -- share its result (or its error).
      while not fl.done do
        if now - fl.started > timeout_s + STALE_GRACE_S then
          -- that refresh never finished (its coroutine was dropped): let
          -- the next caller start a new one
          if cur.flight == fl then cur.flight = nil end
          err(("timed out after %d ms waiting for a token from %s")
            :format(math.floor(timeout_ms), where))
        end
        sluice.sleep(WAIT_STEP_MS)
        now = sluice.now()
      end
      if fl.err then error(fl.err, 0) end
      -- done: loop to take its token (or, if it was thrown away meanwhile,
      -- to wait for or start the next refresh)
    end

    if cur.failed_at and now - cur.failed_at < cooldown_s then
      error(cur.failed_err .. " (not retried for "
        .. math.floor(cooldown_s * 1000) .. " ms)", 0)
    end
    return refresh(req)
  end

  -- ---- the object ------------------------------------------------------
  local obj = {}
  -- Methods accept obj:header(req) and obj.header(req).
  function obj.token(self, req)
    if self ~= obj then req = self end
    return get_token(req)
  end
  function obj.header(self, req)
    if self ~= obj then req = self end
    return "Bearer " .. get_token(req)
  end
  function obj.invalidate(self)
    invalidate()
  end
  return setmetatable(obj, {
    __tostring = function() return "sluice.oauth2.client_credentials(" .. where .. ")" end,
    __metatable = false,
  })
end

function M.client_credentials(opts)
  local ok, res = pcall(client_credentials, opts)
  if not ok then error(res, 2) end
  return res
end

M._form_escape = form_escape -- for tests

return M
