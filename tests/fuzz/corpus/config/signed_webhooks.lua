-- Events delivered as signed webhooks (Standard Webhooks,
-- https://www.standardwebhooks.com/): each request carries webhook-id (the
-- batch id, the same on every retry of a batch), webhook-timestamp and
-- webhook-signature = "v1," .. base64(HMAC-SHA256(key, id.timestamp.body)),
-- which the receiver checks with any Standard Webhooks library. The demo
-- secret below is for the local sink on 127.0.0.1:9000 only; set
-- WEBHOOK_SECRET (the "whsec_..." string the receiver gave you).
local webhooks = require "sluice.webhooks"

return {
  name = "signed_webhooks",
  url = "http://127.0.0.1:9000/v1/webhooks",
  method = "POST",
  headers = { ["X-Source"] = "sluice" },

  schema = {
    { name = "type",        type = "string" },
    { name = "account_id",  type = "integer" },
    { name = "occurred_at", type = "datetime" },
    { name = "amount",      type = "number",  nullable = true },
  },
  unknown_fields = "drop",
  body = "array",

  batch = { max_records = 100, max_bytes = 262144, max_delay_ms = 100 },
  concurrency = 2,

  headers_fn = webhooks.standard {
    secret = sluice.env("WEBHOOK_SECRET",
      "whsec_c2x1aWNlLWRlbW8tc2VjcmV0LW5vdC1mb3ItcHJvZA=="),
  },
}
