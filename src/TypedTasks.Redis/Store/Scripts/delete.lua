-- Deletes tasks that are not running: record, side key, chosen id and index entry.
-- ARGV[A..]    two per id: queue index, the id's part before '@'
-- Returns      how many were deleted.
-- Order: every key touched is checked first, so the call either deletes each task whole or
-- fails before changing anything.
local count = (#ARGV - A + 1) / 2
check_indexes(A, 2)
local deleted = 0
for i = 1, count do
  local at = A + (i - 1) * 2
  local q = queue(tonumber(ARGV[at]))
  local seq = resolve(q, ARGV[at + 1])
  local r = seq and try_load(q, seq)
  if r and r.state ~= STARTED then
    unindex(q, seq, r)
    forget(q, seq, r)
    deleted = deleted + 1
  end
end
return deleted
