-- Stores a schedule (IScheduleStore.UpsertScheduleAsync). Not a store script (shared.lua is not in front):
-- every schedule is in the one slot of P:{schedules}. A new or changed schedule is announced (the
-- workers' schedule change feed); one stored unchanged is not.
-- KEYS[1]      P:{schedules}:schedules, the set of names; KEYS[2] P:{schedules}:schedule:<name>, its hash
-- ARGV[1]      the name; ARGV[2] the definition; ARGV[3] the next fire time in unix ms ('' none);
--              ARGV[4] the wake channel, ARGV[5] the message announcing a change
-- Returns      the hash as stored, field, value, ... (unchanged when the definition is the same text)
local names, key, name, definition, next = KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3]
local stored = redis.call('HGET', key, 'd')
if stored ~= definition then
  local generation = 1
  if stored then generation = tonumber(redis.call('HGET', key, 'g')) + 1 end
  -- First: a refused announcement fails the call with nothing changed.
  redis.call('PUBLISH', ARGV[4], ARGV[5])
  redis.call('HSET', key, 'd', definition, 'g', tostring(generation))
  if next == '' then redis.call('HDEL', key, 'n') else redis.call('HSET', key, 'n', next) end
  redis.call('SADD', names, name)
end
return redis.call('HGETALL', key)
