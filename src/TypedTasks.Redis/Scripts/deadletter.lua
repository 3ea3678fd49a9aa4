-- Settles an in-flight message by moving it to the queue's dead-letter list, in one step.
-- KEYS[1]      the worker's in-flight list; KEYS[2] the queue's dead-letter list
-- ARGV[1]      the in-flight entry; ARGV[2] the dead-letter record; ARGV[3] the most records kept
-- Returns      1 when moved, 0 when the entry was no longer in flight.
-- Guarantee: the record exists exactly when the in-flight entry is gone; the list keeps the
-- newest ARGV[3] records.
if redis.call('LREM', KEYS[1], -1, ARGV[1]) == 0 then
  return 0
end
redis.call('LPUSH', KEYS[2], ARGV[2])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)
return 1
