-- wrk script for bench/scale.sh: device logins with ids <prefix>-<thread>-<n>,
-- n counting up from a start per thread; past a per-thread limit it only
-- asks /healthz (so a chunk of wrk never goes beyond the users wanted).
-- Arguments: prefix start0 start1 limit0 limit1. Prints on exit:
--   created <201 responses> next <n of thread 0> <n of thread 1>
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
function init(args)
  prefix = args[1]
  counter = tonumber(args[2 + tid])
  limit = tonumber(args[4 + tid])
  created = 0
end
function request()
  if counter >= limit then return wrk.format("GET", "/healthz") end
  local body = '{"device_id":"' .. prefix .. "-" .. tid .. "-" .. counter .. '"}'
  counter = counter + 1
  return wrk.format("POST", "/v1/sessions/device", {["Content-Type"] = "application/json"}, body)
end
function response(status, headers, body)
  if status == 201 then created = created + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("created") end
  io.write(string.format("created %d next %d %d\n", total, threads[1]:get("counter"), threads[2]:get("counter")))
end
