-- Moves schedules on after their fires were enqueued (IScheduleStore.AdvanceAsync), the compare-
-- and-set of every schedule a round fired in one call. Not a store script (shared.lua is not in
-- front): every schedule is in the one slot of P:{schedules}.
-- KEYS[i]      P:{schedules}:schedule:<name>
-- ARGV         five per key (times in unix ms, '' for none): generation, expected next, new next,
--              last fire time, last task id ('' skipped)
-- Returns      per key 1 when moved, 0 when the schedule is gone or the expected values differ
-- Order: every key's type is looked at before any schedule moves: a call that failed on its
-- third key would have moved the first two and answered them not moved.
for _, key in ipairs(KEYS) do
  local t = redis.call('TYPE', key).ok
  if t ~= 'hash' and t ~= 'none' then
    return redis.error_reply('WRONGTYPE ' .. key .. ' holds a ' .. t .. ', not a schedule hash; no schedule was moved')
  end
end
local out = {}
for i, key in ipairs(KEYS) do
  local a = (i - 1) * 5
  if redis.call('HGET', key, 'g') ~= ARGV[a + 1] or (redis.call('HGET', key, 'n') or '') ~= ARGV[a + 2] then
    out[i] = 0
  else
    if ARGV[a + 3] == '' then redis.call('HDEL', key, 'n') else redis.call('HSET', key, 'n', ARGV[a + 3]) end
    if ARGV[a + 4] ~= '' then redis.call('HSET', key, 'lf', ARGV[a + 4], 'lt', ARGV[a + 5]) end
    out[i] = 1
  end
end
return out
