-- Cancels one task of the queue KEYS[1] unless it is final.
-- ARGV[A]      the id's part before '@'; ARGV[A+1] 'p' to cancel it only if it has not started
-- Returns      { 1 } canceled, { 0 } final already, not stored (or started, with 'p'); after the
--              1, the follow-ups of a workflow member (shared.lua), four values each. A workflow
--              step not made yet (its join open) is canceled through its join (cancel_join).
-- A pending, scheduled or retrying task leaves its index; a running one keeps its lease until
-- its worker settles it, and the worker is told (cancel channel). Waiters are woken (done).
-- Order: every key written or removed from is checked first; the Canceled record and its index
-- entry are written before the task leaves its old index.
local q = queue(1)
local seq = resolve(q, ARGV[A])
if not seq then
  -- A workflow step not made yet: canceling it cancels its join, and through it the workflow.
  if not cancel_join(q, ARGV[A]) then return { 0 } end
  flush()
  local out = { 1 }
  for k = 1, #followups do out[1 + k] = followups[k] end
  return out
end
local r = load(q, seq)
if not r or is_final(r.state) then return { 0 } end
if ARGV[A + 1] == 'p' and r.state == STARTED then return { 0 } end
check_final(q)
check(q, 'sched', 'retrying')
check_pending(q)
-- A workflow member's end is delivered (on_final): its link, and its outbox, are written too.
if r.chosen ~= '' then
  local p = member_problem(q, seq)
  if p then error({ err = p }) end
end
local was = {}
for k, v in pairs(r) do was[k] = v end
r.state = CANCELED
r.updated = NOW
finish(q, seq, r)
if was.state == STARTED then
  cancels[#cancels + 1] = id_of(q, seq, r)
else
  unindex(q, seq, was)
end
flush()
local out = { 1 }
for k = 1, #followups do out[1 + k] = followups[k] end
return out
