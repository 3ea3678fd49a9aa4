-- Holds a message until it is due.
-- KEYS[1]  the queue's scheduled sorted set ({queue} tag)
-- ARGV[1]  the member: one priority byte, then the body; ARGV[2] the due time, unix ms;
-- ARGV[3]  the wake channel; ARGV[4] the queue name
-- Returns  1
-- Guarantee: the message is in the set when the script returns. When it is now the earliest,
-- workers are told, so that their scheduler does not sleep past it.
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local first = redis.call('ZRANGE', KEYS[1], 0, 0)
if first[1] == ARGV[1] then
  redis.call('PUBLISH', ARGV[3], ARGV[4])
end
return 1
