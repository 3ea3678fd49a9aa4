-- How many tasks of the queue KEYS[1] are in each state, O(1) per state (amortised: entries of
-- final indexes older than the result TTL are dropped first, a bounded number per call).
-- Returns      pending, scheduled, started, retrying, succeeded, failed, canceled, expired, and
--              how many of the pending ones limits hold back.
local q = queue(1)
for _, name in pairs(FINAL_INDEX) do
  need(q.base .. name, 'list')
  trim_final(q, q.base .. name)
end
-- The leases below +inf: the member that keeps the set a skiplist (shared.lua) is none.
-- Tasks held back by limits are Pending too; 'held' counts them.
local held = 0
if redis.call('TYPE', q.seq).ok == 'hash' then held = math.max(tonumber(redis.call('HGET', q.seq, 'held') or '0') or 0, 0) end
local pending = held
for p = 0, 9 do pending = pending + redis.call('LLEN', q.base .. 'pending:' .. p) end
return { pending, redis.call('ZCARD', q.base .. 'sched'), redis.call('ZCOUNT', q.base .. 'leases', '-inf', '(+inf'),
  redis.call('ZCARD', q.base .. 'retrying'), redis.call('LLEN', q.base .. 'succeeded'),
  redis.call('LLEN', q.base .. 'failed'), redis.call('LLEN', q.base .. 'canceled'),
  redis.call('LLEN', q.base .. 'expired'), held }
