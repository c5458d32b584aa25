-- sluice.webhooks: request signing for connectors.
--
-- Each constructor checks its options once, when the connector file loads,
-- and returns a function sign(req) -> headers table, so that
--
--   headers_fn = webhooks.standard { secret = sluice.env "HOOK_SECRET" }
--
-- works as is, and so does calling sign(req) inside a larger headers_fn.
-- Signatures cover req.body, the exact bytes that are sent (with a
-- connector's compression, the body before compression).
--
-- Secrets stay in the closures: nothing here logs them, and the signer
-- functions expose no table that holds them.

local M = {}

-- Option errors are raised without a position and re-raised by the public
-- constructor at level 2, so that they name the connector file's line.
local function fail(msg)
  error("sluice.webhooks: " .. msg, 0)
end

local function at_caller(build)
  return function(opts)
    local ok, res = pcall(build, opts)
    if not ok then error(res, 2) end
    return res
  end
end

local function check_keys(fname, opts, allowed)
  if type(opts) ~= "table" then
    fail(("%s expects a table of options, got %s"):format(fname, type(opts)))
  end
  for k in pairs(opts) do
    if not allowed[k] then
      local names = {}
      for n in pairs(allowed) do names[#names + 1] = n end
      table.sort(names)
      fail(("%s: unknown option %q (valid: %s)")
        :format(fname, tostring(k), table.concat(names, ", ")))
    end
  end
end

local function body_of(req, who)
  local body = type(req) == "table" and req.body
  if type(body) ~= "string" then
    error(("sluice.webhooks: %s: req.body is %s, expected the request body "
      .. "string"):format(who, type(body)), 2)
  end
  return body
end

-- ---- Standard Webhooks -------------------------------------------------
--
-- https://www.standardwebhooks.com/ (spec, "Signature scheme"):
--   webhook-id        a unique message id; here the batch id, which stays
--                     the same across retries so the receiver can dedupe
--   webhook-timestamp integer seconds since the epoch, at signing time
--   webhook-signature "v1," .. base64(HMAC-SHA256(key, id.."."..ts.."."..body))
-- where key is the base64-decoded secret after its "whsec_" prefix.
-- Several secrets (key rotation) give several space-separated signatures.

local function decode_secret(s, i)
  local where = i and ("secret[" .. i .. "]") or "secret"
  if s == nil or s == "" then
    fail(("standard: %s is %s; expected \"whsec_<base64 key>\"")
      :format(where, s == "" and "empty" or "missing"))
  elseif type(s) ~= "string" then
    fail(("standard: %s must be a string \"whsec_<base64 key>\", got %s")
      :format(where, type(s)))
  end
  local b64 = s:gsub("^whsec_", "", 1)
  -- Checked here too (not only by base64_decode) so that the message is
  -- the same whatever the decoder accepts; never echo the secret.
  if b64 == "" or #b64 % 4 ~= 0 or not b64:find("^[A-Za-z0-9+/]+=?=?$") then
    fail(("standard: %s is not \"whsec_\" followed by standard base64 "
      .. "(A-Z a-z 0-9 + /, padded with =)"):format(where))
  end
  local key = sluice.base64_decode(b64)
  if type(key) ~= "string" or key == "" then
    fail(("standard: %s is not valid base64 after \"whsec_\""):format(where))
  end
  return key
end

local function standard(opts)
  check_keys("standard", opts, { secret = true, id = true })
  local keys = {}
  if type(opts.secret) == "table" then
    for i, s in ipairs(opts.secret) do keys[i] = decode_secret(s, i) end
    if #keys == 0 then fail("standard: secret is an empty list") end
  else
    keys[1] = decode_secret(opts.secret)
  end
  local id_fn = opts.id
  if id_fn ~= nil and type(id_fn) ~= "function" then
    fail(("standard: id must be a function(req) returning the message id, "
      .. "got %s"):format(type(id_fn)))
  end

  return function(req)
    local body = body_of(req, "standard")
    local id
    if id_fn then id = id_fn(req) else id = req.batch_id end
    if id == nil or id == "" then
      error("sluice.webhooks: standard: no message id (req.batch_id is "
        .. "missing and no id function was given)", 2)
    end
    id = tostring(id)
    local ts = string.format("%d", math.floor(sluice.now()))
    local content = id .. "." .. ts .. "." .. body
    local sigs = {}
    for i, key in ipairs(keys) do
      sigs[i] = "v1," .. sluice.base64_encode(sluice.hmac_sha256(key, content))
    end
    return {
      ["webhook-id"] = id,
      ["webhook-timestamp"] = ts,
      ["webhook-signature"] = table.concat(sigs, " "),
    }
  end
end

-- ---- a plain HMAC of the body in one header -----------------------------
--
-- GitHub style by default: X-Hub-Signature-256: sha256=<hex HMAC-SHA256>.

local encoders = {
  hex = function(raw) return sluice.hex(raw) end,
  base64 = function(raw) return sluice.base64_encode(raw) end,
}

local function hmac(opts)
  check_keys("hmac", opts,
    { header = true, secret = true, prefix = true, encoding = true })
  local header = opts.header
  if header == nil then header = "X-Hub-Signature-256" end
  if type(header) ~= "string" or not header:find("^[%w!#$%%&'*+%-.^_`|~]+$") then
    fail("hmac: header must be an HTTP header name, got "
      .. (type(header) == "string" and ("%q"):format(header) or type(header)))
  end
  local secret = opts.secret
  if secret == nil or secret == "" then
    fail("hmac: secret is " .. (secret == "" and "empty" or "missing")
      .. "; expected a string")
  elseif type(secret) ~= "string" then
    fail("hmac: secret must be a string, got " .. type(secret))
  end
  local prefix = opts.prefix
  if prefix == nil then prefix = "sha256=" end
  if type(prefix) ~= "string" then
    fail("hmac: prefix must be a string (\"\" for none), got " .. type(prefix))
  end
  local encoding = opts.encoding
  if encoding == nil then encoding = "hex" end
  local enc = encoders[encoding]
  if not enc then
    fail(("hmac: encoding must be \"hex\" or \"base64\", got %s")
      :format(type(encoding) == "string" and ("%q"):format(encoding)
        or type(encoding)))
  end

  return function(req)
    local body = body_of(req, "hmac")
    return { [header] = prefix .. enc(sluice.hmac_sha256(secret, body)) }
  end
end

M.standard = at_caller(standard)
M.hmac = at_caller(hmac)

return M
