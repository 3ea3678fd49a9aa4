-- Changes one schedule in place: the compare-and-set steps of IScheduleStore but the advance
-- (schedule_advance.lua). Not a store script (shared.lua is not in front): every schedule is in
-- the one slot of P:{schedules}. A pause, resume or trigger is announced (the workers' schedule
-- change feed); a completed trigger is not, its worker has read it. The announcement comes
-- before the writes: a PUBLISH the server refuses (an ACL user without the channel) fails the
-- call with nothing changed (subscribers get it once the script is over, so they read the change).
-- KEYS[1]      P:{schedules}:schedule:<name>
-- ARGV[1]      the operation; ARGV[2] the wake channel, ARGV[3] the message announcing a change;
--              then the operation's arguments (times in unix ms, '' for none):
--   pause      '1' to pause, '0' to resume; the next fire time on resume
--   trigger    the time of the request
--   triggered  the time of the request, the task id enqueued for it
-- Returns      1 when changed, 0 when the schedule is gone or the expected values differ
local key, op, wake, changed = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
if redis.call('EXISTS', key) == 0 then return 0 end
if op == 'pause' then
  redis.call('PUBLISH', wake, changed)
  redis.call('HSET', key, 'p', ARGV[4])
  if ARGV[4] == '0' then
    if ARGV[5] == '' then redis.call('HDEL', key, 'n') else redis.call('HSET', key, 'n', ARGV[5]) end
  end
  return 1
elseif op == 'trigger' then
  if redis.call('HEXISTS', key, 'tr') == 1 then return 0 end
  redis.call('PUBLISH', wake, changed)
  redis.call('HSET', key, 'tr', ARGV[4])
  return 1
elseif op == 'triggered' then
  if redis.call('HGET', key, 'tr') ~= ARGV[4] then return 0 end
  redis.call('HDEL', key, 'tr')
  redis.call('HSET', key, 'lf', ARGV[4], 'lt', ARGV[5])
  return 1
end
return redis.error_reply('unknown schedule operation ' .. tostring(op))
