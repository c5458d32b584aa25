return {
  name = "lua_bad",
  url = "http://127.0.0.1:9000/v1/x",
  schema = { { name = "id", type = "integer" } },
  transform = "function(rec) return rec end",
  headers_fn = { Authorization = "x" },
  lua = { max_instructions = 10, max_memory_mb = 5000, max_mem = 1 },
  response_fn = true,
  max_response_bytes = 100,
}
