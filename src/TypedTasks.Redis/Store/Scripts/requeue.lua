-- Sends tasks back to the tail of their pending list as new attempts: Failed, Canceled, Expired,
-- Scheduled or Retrying ones that still have their envelope and no lease. Others are skipped.
-- ARGV[A..]    two per id: queue index, the id's part before '@'
-- Returns      how many moved. A task that was final is withdrawn on the done channel (shared.lua):
--              a store that kept its last frame reads it again.
-- Order: every index written or removed from is checked first; the record and the pending entry
-- are written before the task leaves its old index.
local count = (#ARGV - A + 1) / 2
check_indexes(A, 2)
local moved = 0
for i = 1, count do
  local at = A + (i - 1) * 2
  local q = queue(tonumber(ARGV[at]))
  local seq = resolve(q, ARGV[at + 1])
  local r = seq and try_load(q, seq)
  -- A task canceled while it runs keeps its lease until its worker settles it: it is still
  -- running (and counted by its limits), so it is skipped, as a running one is.
  if r and r.body ~= '' and (r.state == SCHEDULED or r.state == RETRYING or r.state == FAILED
      or r.state == CANCELED or r.state == EXPIRED) and not leased(q, seq) then
    local was = { state = r.state, prio = r.prio, updated = r.updated }
    r.state = PENDING
    r.attempt = 0
    r.err = ''
    r.updated = NOW
    save(q, seq, r)
    if is_final(was.state) then
      opened(q, seq, r)
      withdraw(q, seq, r)
    end
    push_pending(q, seq, r.prio, false)
    unindex(q, seq, was)
    moved = moved + 1
  end
end
flush()
return moved
