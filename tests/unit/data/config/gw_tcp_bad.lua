-- tcp listeners with problems (test_config.c: test_err_tcp).
return {
  listen = "127.0.0.1:8080",
  connectors = { "ok_minimal.lua" },
  tcp = {
    { listen = "127.0.0.1:5170", connector = "minimal" },
    { listen = "127.0.0.1:5170", connector = "minimal" },
    { listen = "127.0.0.1:8080", connector = "minimal" },
    { listen = "0.0.0.0:5170", connector = "minimal" },
    { listen = "localhost", connector = "minmal" },
    { connector = "nosuch" },
    { listen = "[::1]:5171" },
    { listen = "[::1]:5172", connector = "minimal",
      allow = { "127.0.0.1", "10.0.0.0/33", 10, "::1/129", "1.2.3.4/",
                "1.2.3.4/-1", " 1.2.3.4", "fe80::/10" } },
    { listen = "[::1]:5173", connector = "minimal", allow = {} },
    { listen = "[::1]:5174", connector = "minimal", ack = "yes",
      max_line_bytes = 63, idle_timeout_s = 0, max_connections = 65537 },
    { listen = "[::1]:5175", connector = "minimal", max_conections = 5 },
    { listen = "[::]:8080", connector = "bad name" },
  },
}
