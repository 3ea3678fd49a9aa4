-- Starts up to ARGV[A] pending tasks of the queues KEYS (in that order), highest priority first,
-- oldest first: each becomes Started with attempt + 1, fence + 1, the worker, and a lease.
-- ARGV[A]      the most tasks; ARGV[A+1] the lease deadline (unix ms); ARGV[A+2] the worker
-- Returns      six values per started task: queue index, id, attempt, fence, priority, envelope.
-- Cost: one EXISTS of the ten pending lists per queue; only a queue with a pending list goes on
-- (its leases key checked, its lists read). The leases of a queue are added with one ZADD.
-- Order: the tails of the pending lists are read and the records checked first (reads only),
-- then the records are written and the leases added, and only then are the entries popped. A
-- pending entry whose record is final or gone is popped and not returned. One whose record cannot
-- be read (cut short, or its bucket or side key holds another Redis type) is not returned either:
-- it ends Failed with the reason (see unreadable below), so it holds up neither this fetch nor
-- the tasks behind it.
staging = true
local room = tonumber(ARGV[A])
local deadline = tonumber(ARGV[A + 1])
local worker = ARGV[A + 2]
local starts = {}
local pops = {}
local unreadables = {}
for qi = 1, #KEYS do
  if room <= 0 then break end
  local q = queue(qi)
  -- One EXISTS of the ten pending lists: an idle queue costs that command alone.
  local lists = {}
  for p = 0, 9 do lists[p + 1] = q.base .. 'pending:' .. p end
  local busy = redis.call('EXISTS', unpack(lists)) > 0
  if busy then check(q, 'leases') end
  for p = 9, 0, -1 do
    if not busy then break end
    if room <= 0 then break end
    local list = q.base .. 'pending:' .. p
    local seen = 0
    -- Bounded: a window of entries past those dropped (final or gone) is read at a time.
    for _ = 1, 8 do
      if room <= 0 then break end
      local want = room
      local window = redis.call('LRANGE', list, -(seen + want), -(seen + 1))
      if #window == 0 then break end
      prefetch(q, window)
      for j = #window, 1, -1 do
        local seq = window[j]
        seen = seen + 1
        local ok, r = pcall(load, q, seq)
        if not ok then
          check(q, 'failed', 'open')
          unreadables[#unreadables + 1] = { q = q, seq = seq, prio = p }
          r = nil
        end
        if r and not is_final(r.state) then
          starts[#starts + 1] = { q = q, qi = qi, seq = seq, r = r }
          room = room - 1
        end
      end
      if #window < want then break end
    end
    if seen > 0 then pops[#pops + 1] = { list, seen } end
  end
end

local out = {}
for i = 1, #starts do
  local s = starts[i]
  local r = s.r
  r.state = STARTED
  r.attempt = r.attempt + 1
  r.fence = r.fence + 1
  r.worker = worker
  r.updated = NOW
  save(s.q, s.seq, r)
  local leases = s.q.leased or {}
  s.q.leased = leases
  leases[#leases + 1] = deadline
  leases[#leases + 1] = s.seq
  local n = #out
  out[n + 1] = s.qi
  out[n + 2] = id_of(s.q, s.seq, r)
  out[n + 3] = r.attempt
  out[n + 4] = r.fence
  out[n + 5] = r.prio
  out[n + 6] = r.body
end
-- One ZADD per queue with every lease of the call.
for _, q in pairs(queues) do
  local leases = q.leased
  if leases then
    for first = 1, #leases, 1000 do
      redis.call('ZADD', q.base .. 'leases', unpack(leases, first, math.min(first + 999, #leases)))
    end
  end
end
for i = 1, #unreadables do
  local u = unreadables[i]
  unreadable(u.q, u.seq, u.prio)
end
write_staged()
for i = 1, #pops do
  redis.call('RPOP', pops[i][1], pops[i][2])
end
flush()
return out
