-- Cancels a task unless it has already ended.
-- KEYS[1]      the task's result key
-- ARGV[1]      the Canceled record; ARGV[2] the TTL, ms; ARGV[3] the done channel;
-- ARGV[4]      the cancel channel; ARGV[5] the task id
-- Returns      1 when canceled, 0 when a final state was already stored (it stays).
-- Guarantee: checked and written in one step. Waiters are woken (done channel: one frame as
-- store_states.lua writes them) and workers told
-- (cancel channel): a worker that later fetches the task finds it final and does not run it; a
-- worker running it signals its CancellationToken.
local current = redis.call('GET', KEYS[1])
if current and string.byte(current, 1) >= 0x97 and string.byte(current, 1) <= 0x9f and string.byte(current, 3) >= 4 then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('PUBLISH', ARGV[3], struct.pack('>I2', #ARGV[5]) .. ARGV[5] .. struct.pack('>I4', #ARGV[1]) .. ARGV[1])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
