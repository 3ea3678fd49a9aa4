-- Reliable fetch: moves up to N messages, highest priority first, from a queue's ready lists
-- into this worker's in-flight list, and renews the worker's heartbeat.
-- KEYS[1..10]  the ready lists of priorities 0..9 ({queue} tag)
-- KEYS[11]     this worker's in-flight list; KEYS[12] the queue's worker sorted set
-- ARGV[1]      the most messages to move; ARGV[2] the worker id; ARGV[3] its heartbeat deadline, unix ms
-- Returns      the in-flight entries moved: each is one priority byte, then the body.
-- Guarantee: a message is always in exactly one list, ready or in flight, never in neither; the
-- oldest message of the highest priority goes first.
redis.call('ZADD', KEYS[12], ARGV[3], ARGV[2])
local wanted = tonumber(ARGV[1])
local out = {}
for level = 10, 1, -1 do
  local room = wanted - #out
  if room <= 0 then break end
  local bodies = redis.call('RPOP', KEYS[level], room)
  if bodies then
    local prefix = string.char(level - 1)
    for i = 1, #bodies do
      local entry = prefix .. bodies[i]
      out[#out + 1] = entry
    end
  end
end
for first = 1, #out, 1000 do
  redis.call('LPUSH', KEYS[11], unpack(out, first, math.min(first + 999, #out)))
end
return out
