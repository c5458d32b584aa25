-- tcp: values no one should write (test_config.c: test_err_tcp_hostile).
return {
  connectors = { "ok_minimal.lua" },
  tcp = {
    "127.0.0.1:5170",
    { listen = "127.0.0.1:5171", connector = "minimal",
      max_line_bytes = 1e300, idle_timeout_s = math.maxinteger,
      max_connections = -1 },
    { listen = "127.0.0.1:5172", connector = "minimal",
      allow = { string.rep("1", 10000), "1.2.3.4\0/8", { "::1" } } },
    { listen = "127.0.0.1:" .. string.rep("9", 5000), connector = string.rep("c", 5000) },
    { listen = "127.0.0.1:5173", connector = "minimal", [1] = "x", allow = { n = 1 } },
  },
}
