-- Contacts for HubSpot's batch API (POST /crm/v3/objects/contacts/batch/
-- create), which takes up to 100 contacts as
--   {"inputs":[{"properties":{"email":...,"firstname":...}}, ...]}
-- The body templates build that envelope in C, in one pass: each record
-- is wrapped by `record_template`, the array of them by `template`. The
-- demo runs a local sink on 127.0.0.1:9000; in production point `url` at
-- https://api.hubapi.com/crm/v3/objects/contacts/batch/create.
return {
  name = "hubspot_contacts",
  url = "http://127.0.0.1:9000/crm/v3/objects/contacts/batch/create",
  method = "POST",
  headers = {
    -- a private app's access token; `sluice check` masks it
    Authorization = "Bearer " .. sluice.env("HUBSPOT_TOKEN", "demo-token"),
  },

  schema = {
    { name = "email",     type = "string" },
    { name = "firstname", type = "string", nullable = true },
    { name = "lastname",  type = "string", nullable = true },
    { name = "company",   type = "string", nullable = true },
    { name = "phone",     type = "string", nullable = true },
  },
  unknown_fields = "drop",

  body = {
    form = "array",
    -- $records: the array of the batch's records, each wrapped below
    template = [[{ "inputs": $records }]],
    record_template = [[{ "properties": $record }]],
  },

  -- HubSpot takes at most 100 inputs per batch call.
  batch = { max_records = 100, max_bytes = 1048576, max_delay_ms = 500 },
  -- A 400 names one bad input: bisect isolates it; the dead letter keeps
  -- the record itself, not the envelope.
  on_permanent = "bisect",
  retry = { base_ms = 500, max_ms = 30000, max_elapsed_s = 86400 },
  concurrency = 2,
}
