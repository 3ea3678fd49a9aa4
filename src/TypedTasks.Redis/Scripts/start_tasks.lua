-- Marks many tasks Started, each unless its stored state is already final.
-- KEYS[i]      the result key of task i (all in one hash slot)
-- ARGV[1]      the TTL, ms; ARGV[i+1] task i's Started record
-- Returns      one entry per task: its stored record when that is final (the run must not
--              happen), -1 when its key holds another Redis type (left as it is: that task
--              cannot start, the others of the batch still do), else false.
-- One SET ... GET per task: the rare final state found is put back before the script ends.
-- Guarantee: a task whose result was stored (or that was canceled) is never run when its message
-- comes back. The state is the 3rd byte of a record: 0x97 to 0x9f (an array of 7 to 15), 0x01 (version 1), then
-- the state as a positive fixint; states 4 and above are final (docs/wire-format.md).
local out = {}
for i = 1, #KEYS do
  local kind = redis.call('TYPE', KEYS[i]).ok
  if kind ~= 'string' and kind ~= 'none' then
    out[i] = -1 -- checked before SET ... GET, whose WRONGTYPE error would fail the whole batch
  else
    local previous = redis.call('SET', KEYS[i], ARGV[i + 1], 'PX', ARGV[1], 'GET')
    if previous and string.byte(previous, 1) >= 0x97 and string.byte(previous, 1) <= 0x9f and string.byte(previous, 3) >= 4 then
      redis.call('SET', KEYS[i], previous, 'KEEPTTL') -- final: put it back, in the same step
      out[i] = previous
    else
      out[i] = false
    end
  end
end
return out
