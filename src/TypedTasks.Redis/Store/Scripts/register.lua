-- Gives a worker its number, the short form task records keep (a name such as host:pid would
-- push a small task's running record past the inline limit into a key of its own).
-- KEYS[1]      P:workers:names, a hash: field 'next' (the last number given), and number -> name
-- ARGV[1]      the number this worker holds ('' when none yet); ARGV[2] its name
-- Returns      the number, as text: the one held when the hash still gives it to this name (or
--              has lost it: Redis restarted empty), else a new one.
-- Not a store script (shared.lua is not in front): one key, outside any queue's slot.
local key, held, name = KEYS[1], ARGV[1], ARGV[2]
if held ~= '' then
  local owner = redis.call('HGET', key, held)
  if owner == name then return held end
  if not owner then
    if tonumber(redis.call('HGET', key, 'next') or '0') < tonumber(held) then
      redis.call('HSET', key, 'next', held)
    end
    redis.call('HSET', key, held, name)
    return held
  end
end
local n = tostring(redis.call('HINCRBY', key, 'next', 1))
redis.call('HSET', key, n, name)
return n
