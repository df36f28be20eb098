-- signed_deliveries.lua with a pause of PACE_MS milliseconds before each request of each connection, so that
-- queue_throughput.py measures answer times at a given rate (as Argilla sends: each rq worker one delivery at a
-- time) rather than at saturation, where they only measure the queueing in front of a busy server.
dofile(os.getenv("SIGNED_DELIVERIES_LUA"))

local pace = tonumber(os.getenv("PACE_MS") or "0")

function delay()
  return pace
end
