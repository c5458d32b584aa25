return {
  name = "delivery_bad",
  url = "http://127.0.0.1:9000/v1/x",
  schema = { { name = "id", type = "integer" } },
  durability = "disk",
  on_permanent = "drop",
  idempotency_header = 5,
  spool = { max_bytes = 1048576, segment_bytes = 4194304 },
  retry = { max_elapsed_s = -1 },
}
