-- Puts the tasks of the queues KEYS whose lease ended before now back at the head of their
-- pending lists: Pending, the lost run not counted, fence kept (the next fetch raises it, so the
-- lost worker's late settle is refused). A lease whose record is final or gone is dropped; one
-- whose record cannot be read ends Failed (shared.lua, unreadable), its priority taken as 0.
-- ARGV[A]      the most leases per queue; ARGV[A + 1] the most unsealed workflow joins per queue
-- Returns      how many tasks came back, then the index of each queue whose workflow outbox holds
--              entries (the sweep that follows delivers them; it skips the other queues), and the
--              index, negated, of each queue that had more expired leases than the limit (the
--              caller looks at it again at its next round); then, after 'sending', two per
--              workflow join its sender did not seal by its time (join.lua): the queue's index and
--              the join's key (the caller looks at its members, RedisTaskStore.Workflows.cs).
-- Cost: an idle queue (no lease, no outbox entry, no join being sent) costs one EXISTS; a queue
-- with any of them two ZRANGEBYSCOREs more; its pending lists are checked only when a lease has
-- expired. A sending set of another type is passed over (join.lua refuses to write to it).
-- Order: the pending lists are checked first; records and pending entries are written before
-- the leases are removed.
local limit = tonumber(ARGV[A])
local back = 0
local outboxes, sending = {}, {}
for qi = 1, #KEYS do
  local q = queue(qi)
  local busy = redis.call('EXISTS', q.base .. 'leases', q.base .. 'outbox', q.base .. 'sending') > 0
  if busy and redis.call('EXISTS', q.base .. 'outbox') == 1 then outboxes[#outboxes + 1] = qi end
  if busy then
    local ok, due = pcall(redis.call, 'ZRANGEBYSCORE', q.base .. 'sending', '-inf', NOW, 'LIMIT', 0, ARGV[A + 1])
    if ok then
      for _, key in ipairs(due) do
        sending[#sending + 1] = qi
        sending[#sending + 1] = key
      end
    end
  end
  local ok, expired = true, {}
  if busy then ok, expired = pcall(redis.call, 'ZRANGEBYSCORE', q.base .. 'leases', '-inf', '(' .. NOW, 'LIMIT', 0, limit) end
  if not ok then
    check(q, 'leases')
    error(expired)
  end
  if #expired > 0 then check_pending(q) end
  if #expired >= limit then outboxes[#outboxes + 1] = -qi end
  -- Read first: a record that cannot be read (its bucket or side key holds another type) ends
  -- Failed, as a fetch ends such a task, rather than failing this call for every queue in it,
  -- round after round; the keys that takes are checked before anything is written.
  local records, unreadables = {}, {}
  for i = 1, #expired do
    local r, bad = try_load(q, expired[i])
    records[i] = r or false
    if bad then unreadables[#unreadables + 1] = expired[i] end
  end
  if #unreadables > 0 then check(q, 'failed', 'open') end
  for i = 1, #expired do
    local seq, r = expired[i], records[i]
    if r then unlimit(q, seq, r) end -- its run ended: its concurrency slots come back
    if r and r.state == STARTED then
      r.state = PENDING
      r.attempt = math.max(r.attempt - 1, 0)
      r.updated = NOW
      save(q, seq, r)
      push_pending(q, seq, r.prio, true)
      back = back + 1
    end
  end
  for i = 1, #unreadables do unreadable(q, unreadables[i], 0) end
  if #expired > 0 then unlease(q, expired) end
end
flush()
local out = { back }
for i = 1, #outboxes do out[i + 1] = outboxes[i] end
if #sending > 0 then
  out[#out + 1] = 'sending'
  for i = 1, #sending do out[#out + 1] = sending[i] end
end
return out
