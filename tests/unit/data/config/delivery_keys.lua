return {
  name = "delivery_ok",
  url = "http://127.0.0.1:9000/v1/x",
  schema = { { name = "id", type = "integer" } },
  durability = "OS",
  on_permanent = "dead_letter",
  ordered = true,
  idempotency_header = false,
  spool = { max_bytes = 8388608, segment_bytes = 1048576 },
  retry = { max_elapsed_s = 0 },
}
