return {
    name = "limited",
    url = "http://127.0.0.1:9/in",
    schema = { { name = "id", type = "integer" } },
    limits = { record_bytes = 4096, string_bytes = 100, fields = 8,
               depth = 4, records_per_request = 50 },
}
