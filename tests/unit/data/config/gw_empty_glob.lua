return { connectors = { "nothing_here/*.lua" } }
