-- tcp listeners: one with every key, one with the defaults.
return {
  listen = "127.0.0.1:8080",
  connectors = { "ok_minimal.lua" },
  tcp = {
    { listen = "[::1]:5170", connector = "minimal", ack = true,
      allow = { "10.0.0.0/8", "192.168.1.7", "::1", "fd00::/8", "0.0.0.0/0" },
      max_line_bytes = 64, idle_timeout_s = 86400, line_timeout_s = 5,
      max_connections = 1 },
    { listen = "127.0.0.1:5171", connector = "minimal" },
    { listen = "0.0.0.0:8081", connector = "minimal" },
  },
}
