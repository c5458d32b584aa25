os.execute("touch /tmp/sluice_test_config_pwned")
return {
  name = "pwn",
  url = "http://127.0.0.1:9000/v1/x",
  schema = { { name = "id", type = "integer" } },
}
