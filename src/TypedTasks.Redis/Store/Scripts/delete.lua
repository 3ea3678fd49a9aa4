-- Deletes tasks that are not running (a task canceled while it runs keeps its lease, and runs, until
-- its worker settles it): record, side key, chosen id and index entry.
-- ARGV[A..]    two per id: queue index, the id's part before '@'
-- Returns      how many were deleted, then the follow-ups (shared.lua) of workflow members deleted
--              before they ended: each counts as canceled for its join. Each deleted task is
--              withdrawn on the done channel (shared.lua).
-- Order: every key touched is checked first, so the call either deletes each task whole or
-- fails before changing anything.
local count = (#ARGV - A + 1) / 2
check_indexes(A, 2)
-- A workflow member deleted before it ended is delivered (on_final, below), which writes its
-- link and outbox: those of every such task are checked before anything is written.
for i = 1, count do
  local at = A + (i - 1) * 2
  local q = queue(tonumber(ARGV[at]))
  local seq = resolve(q, ARGV[at + 1])
  local r = seq and try_load(q, seq)
  if r and r.chosen ~= '' and not is_final(r.state) and r.state ~= STARTED then
    local p = member_problem(q, seq)
    if p then error({ err = p }) end
  end
end
local deleted = 0
for i = 1, count do
  local at = A + (i - 1) * 2
  local q = queue(tonumber(ARGV[at]))
  local seq = resolve(q, ARGV[at + 1])
  local r = seq and try_load(q, seq)
  if r and r.state ~= STARTED and not leased(q, seq) then
    serving = i
    unindex(q, seq, r)
    withdraw(q, seq, r)
    -- A workflow member deleted before it ended counts as canceled for its join (forget).
    forget(q, seq, r)
    deleted = deleted + 1
  end
end
flush()
local out = { deleted }
for k = 1, #followups do out[1 + k] = followups[k] end
return out
