local token = "Bearer "
  .. sluice.env("SLUICE_TEST_SURELY_UNSET_VAR")
return {
  name = "env",
  url = "http://127.0.0.1:9000/v1/x",
  headers = { Authorization = token },
  schema = { { name = "id", type = "integer" } },
}
