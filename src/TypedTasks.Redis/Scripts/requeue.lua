-- Puts an unsettled in-flight message back at the head of its ready list (worker shutdown).
-- KEYS[1]      the worker's in-flight list; KEYS[2..11] the ready lists of priorities 0..9
-- ARGV[1]      the in-flight entry; ARGV[2] the wake channel; ARGV[3] the queue name
-- Returns      1 when moved, 0 when the entry was no longer in flight (already recovered).
-- Guarantee: the message is never in both lists, and never in neither.
if redis.call('LREM', KEYS[1], -1, ARGV[1]) == 0 then
  return 0
end
local level = string.byte(ARGV[1], 1)
redis.call('RPUSH', KEYS[2 + level], string.sub(ARGV[1], 2))
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
