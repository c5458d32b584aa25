-- Holds 2 MiB once loaded, more than its lua.max_memory_mb.
local big = string.rep("x", 2 * 1024 * 1024)
return {
  name = "lua_big",
  url = "http://127.0.0.1:9000/v1/x",
  schema = { { name = "id", type = "integer" } },
  transform = function(rec) rec.n = #big return rec end,
  lua = { max_memory_mb = 1 },
}
