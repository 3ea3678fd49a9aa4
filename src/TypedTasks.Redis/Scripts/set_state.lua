-- Stores a task's state record with its TTL and, for a final state, wakes the waiting callers.
-- KEYS[1]      the task's result key
-- ARGV[1]      the encoded record; ARGV[2] the TTL, ms; ARGV[3] the done channel; ARGV[4] the task id;
-- ARGV[5]      1 when the state is final
-- Publishes    on a final state: the task id, a zero byte, then the record, so that a waiter has
--              the outcome without reading it back.
-- Returns      1 when written, 0 when a final state was already stored (it stays).
-- Guarantee: the first final state wins; a waiter woken by the PUBLISH finds the record, since
-- it is written first. The state is the 3rd byte of a record: 0x97 (array of 7), 0x01 (version
-- 1), then the state as a positive fixint; states 4 and above are final (docs/wire-format.md).
local current = redis.call('GET', KEYS[1])
if current and string.byte(current, 1) == 0x97 and string.byte(current, 3) >= 4 then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if ARGV[5] == '1' then
  redis.call('PUBLISH', ARGV[3], ARGV[4] .. '\0' .. ARGV[1])
end
return 1
