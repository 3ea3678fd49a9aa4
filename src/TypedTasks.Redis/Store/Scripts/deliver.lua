-- Delivers outbox entries to their join in the queue KEYS[1] (the join's slot): member i of join
-- key ended with an outcome; counted once per member (shared.lua, deliver).
-- ARGV[A..]    outbox entries: cmsgpack { join queue, join key, index, kind, payload, member id, member name }
-- Returns      one status per entry ('missing', 'twice', 'late', 'counted', 'done', 'failed'), then
--              four per follow-up (shared.lua): the entry's number, 'o' and an outbox entry of
--              this queue the successor's end left, or 'x', '' and member ids to cancel.
-- Order: the keys a delivery writes are checked before it writes (the join by its read, and by
-- join_problem the keys of the successor a delivery that may end the join makes); the caller
-- removes an entry from its outbox only after this call answered.
local q = queue(1)
local out = {}
local count = #ARGV - A + 1
for k = 1, count do
  serving = k
  local e = munpack(ARGV[A + k - 1])
  out[k] = deliver_here(q, e[2], e[3], e[4], e[5], e[6], e[7])
end
flush()
for k = 1, #followups do out[count + k] = followups[k] end
return out
