-- Moves the scheduled and retrying tasks of the queues KEYS that are due to the tail of their
-- pending lists (Pending), and lets go the tasks held back by limits whose time came.
-- ARGV[A]      the most tasks per queue and index
-- Returns      the earliest due time left (unix ms), or -1 when none waits.
-- Cost: an idle queue (no scheduled, retrying or limit entry) costs one EXISTS; else an index with
-- nothing due costs one ZRANGE (its first entry); keys are checked only when a task is about to
-- move: the pending list it goes to.
-- Order: per queue, the due entries and their records are read and the pending lists they go to
-- checked first; records and pending entries are written before the entries leave their sorted set.
local limit = tonumber(ARGV[A])
local earliest = -1
local function wait_until(due)
  if due and (earliest < 0 or due < earliest) then earliest = due end
end

-- The first entry's due time of a sorted set (nil when empty); a key of another type fails the call.
local function first_due(key)
  local ok, head = pcall(redis.call, 'ZRANGE', key, 0, 0, 'WITHSCORES')
  if not ok then
    need(key, 'zset')
    error(head)
  end
  return tonumber(head[2])
end

for qi = 1, #KEYS do
  local q = queue(qi)
  local moves = {}
  -- One EXISTS of the three sorted sets: an idle queue costs that command alone.
  local waiting = redis.call('EXISTS', q.base .. 'sched', q.base .. 'retrying', q.base .. 'gates') > 0
  for _, name in ipairs(waiting and { 'sched', 'retrying' } or {}) do
    local key = q.base .. name
    local head = first_due(key)
    if head and head <= NOW then
      local due = redis.call('ZRANGEBYSCORE', key, '-inf', NOW, 'LIMIT', 0, limit)
      local move = { key = key, due = due, records = {} }
      for i = 1, #due do
        local r = load(q, due[i])
        if r and (r.state == SCHEDULED or r.state == RETRYING) then
          check(q, 'pending:' .. r.prio)
          move.records[i] = r
        end
      end
      moves[#moves + 1] = move
    else
      wait_until(head)
    end
  end
  for _, move in ipairs(moves) do
    for i = 1, #move.due do
      local r = move.records[i]
      if r then
        r.state = PENDING
        r.updated = NOW
        save(q, move.due[i], r)
        push_pending(q, move.due[i], r.prio, false)
      end
    end
  end
  for _, move in ipairs(moves) do
    zrem_all(move.key, move.due)
    wait_until(first_due(move.key))
  end
  -- Limits whose time came (shared.lua, limits): a rate window that frees a start, a concurrency
  -- limit's periodic look.
  local gates = q.base .. 'gates'
  local head = waiting and first_due(gates) or nil
  if head and head <= NOW then
    for _, gate in ipairs(redis.call('ZRANGEBYSCORE', gates, '-inf', NOW, 'LIMIT', 0, limit)) do revisit(q, gate) end
    head = first_due(gates)
  end
  wait_until(head)
end
flush()
return earliest
