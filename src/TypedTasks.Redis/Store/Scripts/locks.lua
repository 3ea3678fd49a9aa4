-- The unique locks of the queue KEYS[1] that hold: not lapsed, and naming a task that is not
-- final (a lock whose task is final is taken over by the next enqueue).
-- ARGV[A]      the most locks
-- Returns      three per lock, soonest to lapse first: key, task id, when it lapses (unix ms).
-- Writes only to drop lapsed locks from the index (P:{q}:locks, written by enqueue).
local q = queue(1)
local most = tonumber(ARGV[A])
local index = q.base .. 'locks'
need(index, 'zset')
redis.call('ZREMRANGEBYSCORE', index, '-inf', NOW)
local out = {}
local offset = 0
for _ = 1, 20 do
  local page = redis.call('ZRANGE', index, offset, offset + 199, 'WITHSCORES')
  if #page == 0 then break end
  offset = offset + #page / 2
  for i = 1, #page, 2 do
    if #out >= 3 * most then break end
    local key = page[i]
    local ok, seq = pcall(redis.call, 'GET', q.base .. 'u:' .. key)
    if ok and seq then
      local ok2, r = pcall(load, q, seq)
      if ok2 and r and not is_final(r.state) then
        out[#out + 1] = key
        out[#out + 1] = id_of(q, seq, r)
        out[#out + 1] = tonumber(page[i + 1])
      end
    end
  end
  if #out >= 3 * most then break end
end
return out
