-- sluice.webhooks, with the real C sluice.hmac_sha256 / base64 / hex and a
-- fake clock. Run by tests/unit/test_lua.c.
local T = ...
local webhooks = require "sluice.webhooks"

-- The Standard Webhooks specification's published example
-- (standardwebhooks.com; the same vector is in the reference libraries'
-- tests). Checked independently with Python:
--   base64.b64encode(hmac.new(base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
--     b'msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}',
--     hashlib.sha256).digest())
local SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
local SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
local SPEC_TS = 1614265330
local SPEC_BODY = '{"test": 2432232314}'
local SPEC_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

local function req(t)
  t = t or {}
  return { body = t.body or SPEC_BODY, records = 1, attempt = t.attempt or 1,
           batch_id = t.batch_id or SPEC_ID, last_status = t.last_status,
           method = "POST", url = "http://127.0.0.1:9000/hooks",
           connector = "hooks" }
end

T.test("the host functions are the real ones", function()
  for _, k in ipairs({ "hmac_sha256", "base64_encode", "base64_decode", "hex",
                       "now" }) do
    T.eq(type(sluice[k]), "function", "sluice." .. k)
  end
end)

T.test("standard: the specification's example signature", function()
  local f = T.fakes()
  f.clock = SPEC_TS + 0.75            -- the timestamp is whole seconds
  local sign = webhooks.standard { secret = SPEC_SECRET }
  T.eq(type(sign), "function", "usable as headers_fn")
  local h = sign(req())
  T.eq(h["webhook-id"], SPEC_ID)
  T.eq(h["webhook-timestamp"], "1614265330")
  T.eq(h["webhook-signature"], SPEC_SIG)
  local n = 0
  for _ in pairs(h) do n = n + 1 end
  T.eq(n, 3, "exactly three headers")
end)

T.test("standard: a secret without the whsec_ prefix is the same key", function()
  local f = T.fakes()
  f.clock = SPEC_TS
  local sign = webhooks.standard { secret = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }
  T.eq(sign(req())["webhook-signature"], SPEC_SIG)
end)

T.test("standard: webhook-id is the batch id, stable across retries", function()
  local f = T.fakes()
  local sign = webhooks.standard { secret = SPEC_SECRET }
  local h1 = sign(req { batch_id = "b-17", attempt = 1 })
  f.clock = f.clock + 61
  local h2 = sign(req { batch_id = "b-17", attempt = 2, last_status = 503 })
  T.eq(h1["webhook-id"], "b-17")
  T.eq(h2["webhook-id"], "b-17")
  T.eq(tonumber(h2["webhook-timestamp"]) - tonumber(h1["webhook-timestamp"]), 61,
    "timestamp is the signing time")
  T.ok(h1["webhook-signature"] ~= h2["webhook-signature"],
    "new timestamp, new signature")
  -- a numeric batch id is sent as its decimal text
  T.eq(sign(req { batch_id = 42 })["webhook-id"], "42")
end)

T.test("standard: signature covers id, timestamp and body (recomputed)", function()
  local f = T.fakes()
  f.clock = 1700000123.9
  local key = "0123456789abcdef0123456789abcdef"
  local sign = webhooks.standard { secret = "whsec_" .. sluice.base64_encode(key) }
  local body = '[{"id":1,"email":"a@example.com"}]\n'
  local h = sign(req { body = body, batch_id = "batch-9" })
  T.eq(h["webhook-timestamp"], "1700000123")
  T.eq(h["webhook-signature"], "v1," .. sluice.base64_encode(
    sluice.hmac_sha256(key, "batch-9.1700000123." .. body)))
end)

T.test("standard: id function overrides the batch id", function()
  local f = T.fakes()
  f.clock = SPEC_TS
  local sign = webhooks.standard {
    secret = SPEC_SECRET,
    id = function(r) return "msg_" .. r.batch_id end,
  }
  local h = sign(req { batch_id = "p5jXN8AQM9LWM0D4loKWxJek" })
  T.eq(h["webhook-id"], SPEC_ID)
  T.eq(h["webhook-signature"], SPEC_SIG)
end)

T.test("standard: several secrets give space-separated signatures", function()
  local f = T.fakes()
  f.clock = SPEC_TS
  -- second key: base64 of "another-32-byte-key-for-rotation"; expected value
  -- computed with Python: base64.b64encode(hmac.new(b"another-32-byte-key-
  -- for-rotation", b'msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test":
  -- 2432232314}', hashlib.sha256).digest())
  local sign = webhooks.standard { secret = {
    SPEC_SECRET, "whsec_YW5vdGhlci0zMi1ieXRlLWtleS1mb3Itcm90YXRpb24=" } }
  T.eq(sign(req())["webhook-signature"],
    SPEC_SIG .. " v1,hkK/uQTyqEI3bNe3aQOrUQ65Ogx4Qh39RwtcSbJSB0Y=")
end)

T.test("standard: bad secrets are refused when the connector loads", function()
  T.raises(function() webhooks.standard {} end, "secret is missing")
  T.raises(function() webhooks.standard { secret = "" } end, "secret is empty")
  T.raises(function() webhooks.standard { secret = "whsec_" } end,
    "not \"whsec_\" followed by standard base64")
  local m = T.raises(function()
    webhooks.standard { secret = "whsec_not*base64!!" } end,
    "not \"whsec_\" followed by standard base64")
  T.not_contains(m, "not*base64", "the secret is not echoed")
  T.raises(function() webhooks.standard { secret = "whsec_abc" } end,
    "standard base64")                         -- unpadded
  T.raises(function() webhooks.standard { secret = "whsec_ab=c" } end,
    "standard base64")
  T.raises(function() webhooks.standard { secret = { "whsec_QUJD", 7 } } end,
    "secret[2] must be a string")
  T.raises(function() webhooks.standard { secret = {} } end, "empty list")
  T.raises(function() webhooks.standard { secret = SPEC_SECRET, id = "x" } end,
    "id must be a function")
  T.raises(function() webhooks.standard { secret = SPEC_SECRET, secrte = 1 } end,
    'unknown option "secrte"')
  T.raises(function() webhooks.standard "whsec_QUJD" end, "expects a table")
  -- the error points at the caller's line (this file), not at the module
  local msg = T.raises(function() webhooks.standard {} end)
  T.contains(msg, "test_webhooks.lua:")
end)

T.test("standard: a request without a body string is an error", function()
  T.fakes()
  local sign = webhooks.standard { secret = SPEC_SECRET }
  T.raises(function() sign({ batch_id = "x" }) end, "req.body is nil")
  T.raises(function() sign({ body = "{}" }) end, "no message id")
end)

-- GitHub's documented example ("Validating webhook deliveries"): secret
-- "It's a Secret to Everybody", payload "Hello, World!". Checked with
-- Python: hmac.new(b"It's a Secret to Everybody", b"Hello, World!",
-- hashlib.sha256).hexdigest()  (and .digest() base64-encoded below).
local GH_SECRET = "It's a Secret to Everybody"
local GH_BODY = "Hello, World!"
local GH_HEX = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
local GH_B64 = "dXEH6g6yUJ/CESIczphLijdXC211hsIsRvQ3nIsEPhc="

T.test("hmac: GitHub's example, default header and prefix", function()
  local sign = webhooks.hmac { secret = GH_SECRET }
  local h = sign(req { body = GH_BODY })
  T.eq(h["X-Hub-Signature-256"], "sha256=" .. GH_HEX)
  local n = 0
  for _ in pairs(h) do n = n + 1 end
  T.eq(n, 1, "one header")
end)

T.test("hmac: explicit header, prefix and encodings", function()
  local h = webhooks.hmac { header = "X-Hub-Signature-256", secret = GH_SECRET,
                            prefix = "sha256=" } (req { body = GH_BODY })
  T.eq(h["X-Hub-Signature-256"], "sha256=" .. GH_HEX)
  h = webhooks.hmac { header = "X-Signature", secret = GH_SECRET, prefix = "",
                      encoding = "base64" } (req { body = GH_BODY })
  T.eq(h["X-Signature"], GH_B64)
  h = webhooks.hmac { header = "X-Sig", secret = GH_SECRET, prefix = "v1=",
                      encoding = "hex" } (req { body = GH_BODY })
  T.eq(h["X-Sig"], "v1=" .. GH_HEX)
  -- the empty body is signed too
  h = webhooks.hmac { secret = "k" } (req { body = "" })
  T.eq(h["X-Hub-Signature-256"], "sha256=" .. sluice.hex(sluice.hmac_sha256("k", "")))
end)

T.test("hmac: bad options are refused when the connector loads", function()
  T.raises(function() webhooks.hmac {} end, "secret is missing")
  T.raises(function() webhooks.hmac { secret = "" } end, "secret is empty")
  T.raises(function() webhooks.hmac { secret = "s", encoding = "b64" } end,
    'encoding must be "hex" or "base64", got "b64"')
  T.raises(function() webhooks.hmac { secret = "s", header = "X Sig" } end,
    "header must be an HTTP header name")
  T.raises(function() webhooks.hmac { secret = "s", prefix = false } end,
    "prefix must be a string")
  local m = T.raises(function() webhooks.hmac { secret = "hunter2", hedaer = "x" } end,
    'unknown option "hedaer"')
  T.not_contains(m, "hunter2")
end)

T.test("signers combine inside a larger headers_fn", function()
  local f = T.fakes()
  f.clock = SPEC_TS
  local std = webhooks.standard { secret = SPEC_SECRET }
  local gh = webhooks.hmac { secret = GH_SECRET }
  local headers_fn = function(r)
    local h = std(r)
    for k, v in pairs(gh(r)) do h[k] = v end
    h["X-Attempt"] = tostring(r.attempt)
    return h
  end
  local h = headers_fn(req())
  T.eq(h["webhook-signature"], SPEC_SIG)
  T.eq(h["X-Hub-Signature-256"], "sha256=" .. sluice.hex(
    sluice.hmac_sha256(GH_SECRET, SPEC_BODY)))
  T.eq(h["X-Attempt"], "1")
end)
