-- Acknowledges many messages of one worker and queue: removes their entries from its in-flight list.
-- KEYS[1]      the worker's in-flight list ({queue} tag)
-- ARGV[i]      an in-flight entry (priority byte, then body)
-- Returns      how many entries were found and removed.
-- Guarantee: only the given entries go; an entry is removed once even if the same body is in
-- flight twice (each lease removes its own).
local removed = 0
for i = 1, #ARGV do
  removed = removed + redis.call('LREM', KEYS[1], -1, ARGV[i])
end
return removed
