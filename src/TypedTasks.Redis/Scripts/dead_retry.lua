-- Puts the message of one dead-letter record back into its queue for another run.
-- KEYS[1]      the queue's dead-letter list; KEYS[2] the ready list of the message's priority
-- ARGV[1]      the record; ARGV[2] the message to enqueue; ARGV[3] the wake channel; ARGV[4] the queue name
-- Returns      1 when moved, 0 when the record was no longer there (retried or purged meanwhile).
-- Guarantee: the record leaves the dead-letter list exactly when its message enters the queue.
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 then
  return 0
end
redis.call('LPUSH', KEYS[2], ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
