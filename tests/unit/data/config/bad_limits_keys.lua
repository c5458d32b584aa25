return {
    name = "limited",
    url = "http://127.0.0.1:9/in",
    schema = { { name = "id", type = "integer" } },
    limits = { record_bytes = 10, string_bytes = "big", fields = 0,
               depth = 129, records_per_request = 1, record = 5 },
}
