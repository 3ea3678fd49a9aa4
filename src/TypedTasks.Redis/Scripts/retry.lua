-- Settles an in-flight message and schedules its retry, in one step.
-- KEYS[1]      the worker's in-flight list; KEYS[2] the queue's scheduled sorted set
-- ARGV[1]      the in-flight entry; ARGV[2] the new member (priority byte, then the new body);
-- ARGV[3]      the due time, unix ms; ARGV[4] the wake channel; ARGV[5] the queue name
-- Returns      1 when scheduled, 0 when the entry was no longer in flight (another worker has it).
-- Guarantee: the retry exists exactly when the in-flight entry is gone.
if redis.call('LREM', KEYS[1], -1, ARGV[1]) == 0 then
  return 0
end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
local first = redis.call('ZRANGE', KEYS[2], 0, 0)
if first[1] == ARGV[2] then
  redis.call('PUBLISH', ARGV[4], ARGV[5])
end
return 1
