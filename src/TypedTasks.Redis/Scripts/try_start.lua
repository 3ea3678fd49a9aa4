-- Marks a task Started unless its stored state is already final.
-- KEYS[1]      the task's result key
-- ARGV[1]      the Started record; ARGV[2] the TTL, ms
-- Returns      the stored record when it is final (the run must not happen), else false.
-- Guarantee: a task whose result was stored is never run again when its message comes back.
-- The state is the 3rd byte of a record: 0x97 (array of 7), 0x01 (version 1), then the state as
-- a positive fixint; states 4 and above are final (docs/wire-format.md).
local current = redis.call('GET', KEYS[1])
if current and string.byte(current, 1) == 0x97 and string.byte(current, 3) >= 4 then
  return current
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
