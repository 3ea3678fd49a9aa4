-- Stores a task's state record with its TTL and, for a final state, wakes the waiting callers.
-- KEYS[1]      the task's result key
-- ARGV[1]      the encoded record; ARGV[2] the TTL, ms; ARGV[3] the done channel; ARGV[4] the task id;
-- ARGV[5]      1 when the state is final
-- Returns      1
-- Guarantee: a waiter woken by the PUBLISH finds the record, since it is written first.
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if ARGV[5] == '1' then
  redis.call('PUBLISH', ARGV[3], ARGV[4])
end
return 1
