local c = { name = "x" }
return "nope"
