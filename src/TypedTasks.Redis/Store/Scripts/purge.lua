-- Deletes up to ARGV[A] pending tasks of the queue KEYS[1], in run order, then those limits hold back.
-- Returns      how many were deleted.
-- Order: the keys touched are checked first; the records go, then the entries are popped.
local q = queue(1)
local room = tonumber(ARGV[A])
check(q, 'open')
check_pending(q)
local deleted = 0
for p = 9, 0, -1 do
  if room <= 0 then break end
  local list = q.base .. 'pending:' .. p
  local page = redis.call('LRANGE', list, -room, -1)
  for j = #page, 1, -1 do
    local seq = page[j]
    local r = load(q, seq)
    if r then
      forget(q, seq, r)
      deleted = deleted + 1
    end
  end
  if #page > 0 then
    redis.call('RPOP', list, #page)
    room = room - #page
  end
end
-- Then the tasks limits hold back, limit by limit, in the order each would let them go.
for _, gate in ipairs(room > 0 and holding(q) or {}) do
  if room <= 0 then break end
  local list = q.base .. 'lh:' .. gate
  local page = redis.call('LRANGE', list, -room, -1)
  for j = #page, 1, -1 do
    local r = load(q, page[j])
    if r then
      forget(q, page[j], r)
      deleted = deleted + 1
    end
  end
  if #page > 0 then
    redis.call('RPOP', list, #page)
    redis.call('HINCRBY', q.seq, 'held', -#page)
    room = room - #page
  end
end
return deleted
