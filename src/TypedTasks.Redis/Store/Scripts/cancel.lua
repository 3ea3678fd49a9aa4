-- Cancels one task of the queue KEYS[1] unless it is final.
-- ARGV[A]      the id's part before '@'
-- Returns      1 canceled, 0 final already or not stored.
-- A pending, scheduled or retrying task leaves its index; a running one keeps its lease until
-- its worker settles it, and the worker is told (cancel channel). Waiters are woken (done).
-- Order: every key written or removed from is checked first; the Canceled record and its index
-- entry are written before the task leaves its old index.
local q = queue(1)
local seq = resolve(q, ARGV[A])
if not seq then return 0 end
local r = load(q, seq)
if not r or is_final(r.state) then return 0 end
check_final(q)
check(q, 'sched', 'retrying')
check_pending(q)
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
return 1
