-- Stores many task states at once (a worker's outcomes, a producer's new tasks) and wakes the
-- callers waiting for the final ones with one message.
-- KEYS[i]      the result key of entry i (all in one hash slot)
-- ARGV[1]      the TTL, ms; ARGV[2] the done channel
-- ARGV[3i]     entry i's encoded record; ARGV[3i+1] its mode; ARGV[3i+2] its done frame (final
--              states only): the id's length (2 bytes, big-endian), the id, the record's length
--              (4 bytes, big-endian), the record
--   mode 'n'   a task just enqueued: written only when no record exists (a worker's Started or a
--              final state that got there first stays)
--   mode 's'   a state on the way (Retrying, Pending again): written unless the stored state is final
--   mode 'f'   a final state: written unless the stored state is final, then announced
-- Publishes    one message for all final states written: their frames, one after another.
-- Returns      how many entries were written.
-- One SET ... GET per entry: the rare final state found is put back before the script ends.
-- Guarantee: the first final state wins; a waiter woken by the PUBLISH finds the record, since
-- it is written first. The state is the 3rd byte of a record: 0x97 to 0x9f (an array of 7 to 15), 0x01 (version
-- 1), then the state as a positive fixint; states 4 and above are final (docs/wire-format.md).
local ttl = ARGV[1]
local frames = {}
local written = 0
for i = 1, #KEYS do
  local record = ARGV[3 * i]
  local mode = ARGV[3 * i + 1]
  if mode == 'n' then
    if redis.call('SET', KEYS[i], record, 'PX', ttl, 'NX') then
      written = written + 1
    end
  else
    local previous = redis.call('SET', KEYS[i], record, 'PX', ttl, 'GET')
    if previous and string.byte(previous, 1) >= 0x97 and string.byte(previous, 1) <= 0x9f and string.byte(previous, 3) >= 4 then
      redis.call('SET', KEYS[i], previous, 'KEEPTTL') -- a final state stays: put it back
    else
      written = written + 1
      if mode == 'f' then
        frames[#frames + 1] = ARGV[3 * i + 2]
      end
    end
  end
end
if #frames > 0 then
  redis.call('PUBLISH', ARGV[2], table.concat(frames))
end
return written
