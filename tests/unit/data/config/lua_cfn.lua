-- Any function will do, a C one too.
return {
  name = "lua_cfn",
  url = "http://127.0.0.1:9000/v1/x",
  schema = { { name = "id", type = "integer" } },
  headers_fn = sluice.uuid,
}
