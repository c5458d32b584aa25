local s = ("a"):rep(30000)
return s:find(("a-"):rep(60) .. "b")
