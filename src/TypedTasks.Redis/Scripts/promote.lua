-- Moves due scheduled messages into their ready lists.
-- KEYS[1]      the queue's scheduled sorted set; KEYS[2..11] the ready lists of priorities 0..9
-- ARGV[1]      now, unix ms; ARGV[2] the most messages to move; ARGV[3] the wake channel; ARGV[4] the queue name
-- Returns      { moved, the due time of the earliest message left (unix ms) or -1 }
-- Guarantee: a message is in the set or in a ready list, never both, never neither.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for i = 1, #due do
  local member = due[i]
  local level = string.byte(member, 1)
  redis.call('LPUSH', KEYS[2 + level], string.sub(member, 2))
  redis.call('ZREM', KEYS[1], member)
end
if #due > 0 then
  redis.call('PUBLISH', ARGV[3], ARGV[4])
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return { #due, tonumber(first[2] or -1) }
