return { connectors = { "dup_name_*.lua" } }
