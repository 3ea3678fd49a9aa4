-- Moves the scheduled and retrying tasks of the queues KEYS that are due to the tail of their
-- pending lists (Pending).
-- ARGV[A]      the most tasks per queue and index
-- Returns      the earliest due time left (unix ms), or -1 when none waits.
-- Order: the pending lists are checked first; records and pending entries are written before
-- the entries leave their sorted set.
local limit = tonumber(ARGV[A])
local earliest = -1
for qi = 1, #KEYS do
  local q = queue(qi)
  check(q, 'sched', 'retrying')
  check_pending(q)
  for _, name in ipairs({ 'sched', 'retrying' }) do
    local key = q.base .. name
    local due = redis.call('ZRANGEBYSCORE', key, '-inf', NOW, 'LIMIT', 0, limit)
    for i = 1, #due do
      local seq = due[i]
      local r = load(q, seq)
      if r and (r.state == SCHEDULED or r.state == RETRYING) then
        r.state = PENDING
        r.updated = NOW
        save(q, seq, r)
        push_pending(q, seq, r.prio, false)
      end
    end
    for first = 1, #due, 1000 do
      redis.call('ZREM', key, unpack(due, first, math.min(first + 999, #due)))
    end
    local next_due = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2]
    if next_due and (earliest < 0 or tonumber(next_due) < earliest) then earliest = tonumber(next_due) end
  end
end
flush()
return earliest
