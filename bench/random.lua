-- wrk -s bench/random.lua URL -- ROUTE CODES: every request asks for ROUTE (a format string such
-- as "/g/%s/print") with a code picked at random from the file CODES (one code a line), so that
-- a benchmark measures the whole registry rather than one cached item.
local codes = {}
local route = "/g/%s"

function init(args)
  route = args[1] or route
  for line in io.lines(args[2]) do
    if #line > 0 then
      codes[#codes + 1] = line
    end
  end
  -- each thread its own sequence
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
end

function request()
  local code = codes[math.random(#codes)]
  return wrk.format("GET", string.format(route, code))
end
