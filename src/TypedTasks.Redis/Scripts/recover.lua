-- Returns the in-flight messages of a worker whose heartbeat expired to the head of their
-- ready lists, oldest first, and forgets the worker.
-- KEYS[1]      the queue's worker sorted set; KEYS[2] that worker's in-flight list;
-- KEYS[3..12]  the ready lists of priorities 0..9
-- ARGV[1]      the worker id; ARGV[2] now, unix ms; ARGV[3] the wake channel; ARGV[4] the queue name
-- Returns      the number of messages returned, or -1 when the worker's heartbeat is alive again.
-- Guarantee: checked and moved in one step, so a worker that renews its heartbeat meanwhile
-- keeps its messages; each message is in exactly one list throughout.
local deadline = redis.call('ZSCORE', KEYS[1], ARGV[1])
if deadline and tonumber(deadline) > tonumber(ARGV[2]) then
  return -1
end
local moved = 0
while true do
  local entry = redis.call('LPOP', KEYS[2])
  if not entry then break end
  local level = string.byte(entry, 1)
  redis.call('RPUSH', KEYS[3 + level], string.sub(entry, 2))
  moved = moved + 1
end
redis.call('ZREM', KEYS[1], ARGV[1])
if moved > 0 then
  redis.call('PUBLISH', ARGV[3], ARGV[4])
end
return moved
