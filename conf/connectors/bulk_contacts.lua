-- Contacts for a bulk API that answers each batch with one result per
-- contact, in the order sent (207 Multi-Status):
--   {"results":[{"status":201,"id":"c-81"},
--               {"status":422,"error":{"code":"invalid_email","message":"email is invalid"}},
--               {"status":429,"error":{"message":"contact is being updated, try again"}}]}
-- response_fn reads it: refused contacts go to the dead letters with the
-- API's message (`sluice dlq list bulk_contacts`), throttled ones are sent
-- again in a batch of their own, the others count as delivered. Point `url`
-- at the real API in production; docs/operations.md, "A bulk API", walks
-- through it.
local responses = require "sluice.responses"

return {
  name = "bulk_contacts",
  url = "https://api.example.com/v2/contacts/bulk",
  headers = {
    Authorization = "Bearer " .. sluice.env("CONTACTS_API_TOKEN", "demo-token"),
  },

  schema = {
    { name = "email",      type = "string" },
    { name = "first_name", type = "string", nullable = true },
    { name = "last_name",  type = "string", nullable = true },
    { name = "plan",       type = "string", nullable = true },
  },
  unknown_fields = "drop",
  body = { template = '{"contacts": $records}' },
  batch = { max_records = 100 },

  response_fn = responses.per_item {
    items = "results", status = "status", error = "error.message",
  },
  -- 100 results of about 100 bytes each: well within the default 1 MiB
  -- (an answer cut short is not read: the batch is retried).
  max_response_bytes = 262144,

  -- The API counts contacts, not requests: 1,000 a second.
  rate_limit = { records_per_s = 1000 },
  concurrency = 4,
  retry = { base_ms = 500, max_ms = 60000, max_elapsed_s = 86400 },
  -- A 4xx for the whole batch (not a 207): halve it until the bad contacts
  -- are isolated.
  on_permanent = "bisect",
  timeout_ms = 10000,
}
