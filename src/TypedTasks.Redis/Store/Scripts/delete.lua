-- Deletes tasks that are not running: record, side key, chosen id and index entry.
-- ARGV[A..]    two per id: queue index, the id's part before '@'
-- Returns      how many were deleted.
-- Order: every key touched is checked first, so the call either deletes each task whole or
-- fails before changing anything.
local count = (#ARGV - A + 1) / 2
for i = 1, count do
  local q = queue(tonumber(ARGV[A + (i - 1) * 2]))
  check_final(q)
  check(q, 'sched', 'retrying')
  check_pending(q)
end
local deleted = 0
for i = 1, count do
  local at = A + (i - 1) * 2
  local q = queue(tonumber(ARGV[at]))
  local seq = resolve(q, ARGV[at + 1])
  local r = seq and try_load(q, seq)
  if r and r.state ~= STARTED then
    unindex(q, seq, r)
    if not is_final(r.state) then closed(q, seq) end
    if r.chosen ~= '' then redis.call('DEL', q.base .. 'id:' .. r.chosen) end
    if r.side then redis.call('DEL', side_of(q, seq)) end
    redis.call('HDEL', bucket_of(q, seq), seq)
    deleted = deleted + 1
  end
end
return deleted
