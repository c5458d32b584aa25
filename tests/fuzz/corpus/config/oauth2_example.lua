-- Orders for an API behind OAuth2 (client credentials). The token is
-- fetched on the first delivery, cached until shortly before it expires,
-- shared by every batch of this connector, refreshed once however many
-- batches need it at the same time, and thrown away when the API answers
-- 401. A failing token endpoint only makes the batch retry later.
-- The demo runs a local sink and token endpoint on 127.0.0.1:9000; set
-- ORDERS_CLIENT_ID / ORDERS_CLIENT_SECRET (and the URLs) in production.
local oauth2 = require "sluice.oauth2"

local token = oauth2.client_credentials {
  token_url = "http://127.0.0.1:9000/oauth/token",
  client_id = sluice.env("ORDERS_CLIENT_ID", "demo-client"),
  client_secret = sluice.env("ORDERS_CLIENT_SECRET", "demo-secret"),
  scope = "orders:write",
  auth_method = "basic",        -- or "post": credentials in the form body
  refresh_skew_s = 30,          -- refresh 30 s before expires_in runs out
}

return {
  name = "orders",
  url = "http://127.0.0.1:9000/v1/orders",
  method = "POST",
  headers = { ["X-Source"] = "sluice" },

  schema = {
    { name = "order_id",   type = "string" },
    { name = "customer",   type = "integer" },
    { name = "total",      type = "number" },
    { name = "currency",   type = "string" },
    { name = "placed_at",  type = "datetime" },
    { name = "note",       type = "string",  nullable = true },
  },
  unknown_fields = "reject",
  body = "array",

  batch = { max_records = 200, max_bytes = 524288, max_delay_ms = 200 },
  concurrency = 4,

  -- Per attempt: a valid token, and the batch id as an idempotency key
  -- (stable across retries, so the API can drop duplicates).
  headers_fn = function(req)
    return {
      Authorization = token:header(req),
      ["Idempotency-Key"] = req.batch_id,
    }
  end,
}
