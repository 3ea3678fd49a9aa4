-- Reads every schedule (IScheduleStore.ListSchedulesAsync) in one call. Not a store script
-- (shared.lua is not in front): every schedule is in the one slot of P:{schedules}.
-- KEYS[1]      P:{schedules}:schedules, the set of names
-- ARGV[1]      the key prefix of the hashes, P:{schedules}:schedule:
-- Returns      name, {field, value, ...}, name, ... ; a name whose hash is gone leaves the set;
--              a key of another type (a hand edit) answers {'!', the error}, and the others go on
local out = {}
for _, name in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local ok, fields = pcall(redis.call, 'HGETALL', ARGV[1] .. name)
  if not ok then
    out[#out + 1] = name
    out[#out + 1] = { '!', type(fields) == 'table' and fields.err or tostring(fields) }
  elseif #fields == 0 then
    redis.call('SREM', KEYS[1], name)
  else
    out[#out + 1] = name
    out[#out + 1] = fields
  end
end
return out
