-- Appends messages to a queue's ready list of one priority.
-- KEYS[1]  the ready list of that priority ({queue} tag)
-- ARGV[1]  the wake channel; ARGV[2] the queue name; ARGV[3..n] message bodies
-- Returns  the length of the list after the push.
-- Guarantee: every body is in the list when the script returns. Idle workers are woken (one
-- PUBLISH) only when the list was empty before, so a busy queue costs no PUBLISH per message.
local n = redis.call('LPUSH', KEYS[1], unpack(ARGV, 3))
if n == #ARGV - 2 then
  redis.call('PUBLISH', ARGV[1], ARGV[2])
end
return n
