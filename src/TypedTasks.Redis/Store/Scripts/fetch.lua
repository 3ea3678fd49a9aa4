-- Starts up to ARGV[A] pending tasks of the queues KEYS (in that order), highest priority first,
-- oldest first: each becomes Started with attempt + 1, fence + 1, the worker, and a lease.
-- ARGV[A]      the most tasks; ARGV[A+1] the lease deadline (unix ms); ARGV[A+2] the worker
-- ARGV[A+3]    the fetching store's hand-off name; ARGV[A+4] its lease time (ms); ARGV[A+5] until
--              when its idle entry stands (unix ms); ARGV[A+6] '1' when it may have idle entries
--              on these queues (a fetch that starts a task clears them)
-- Returns      a start frame per started task, the hand-off's (enqueue.lua): attempt, fence,
--              priority and lease deadline, then its queue's name, its id and its envelope, each
--              after its length; then 'more' when the call stopped at its bound of tasks held back
--              with room left. (One value per task, not six; one each, so that no reply holds
--              every envelope of the call in one string.)
-- A limited task (shared.lua, limits) starts only when its limits admit it; else it is held back:
-- it moves from its pending list to its limit's held list, and the fetch goes on behind it.
-- Cost: one EXISTS of the ten pending lists per queue; only a queue with a pending list goes on
-- (its leases key checked, its lists read). The leases of a queue are added with one ZADD.
-- Order: the tails of the pending lists are read and the records checked first (reads only),
-- then the records are written and the leases added, and only then are the entries popped. A
-- pending entry whose record is final or gone is popped and not returned. One whose record cannot
-- be read (cut short, or its bucket or side key holds another Redis type) is not returned either:
-- it ends Failed with the reason (see unreadable below), so it holds up neither this fetch nor
-- the tasks behind it.
-- Idle entries: a fetch that starts nothing (and did not stop at its bound of held-back tasks)
-- registers its worker as idle on each of its queues, field <hand-off name> of P:{q}:idle: 'worker room lease-ms until-ms'. An enqueue that
-- finds the queue with no pending entry starts its task for that worker at once (enqueue.lua).
-- A key of another type at P:{q}:idle is left as it is: no entry, the fetch goes on.
staging = true
local room = num(ARGV[A])
local deadline = ARGV[A + 1] -- as sent: a ZADD score, not formatted again per lease
local worker = ARGV[A + 2]
local hand, lease_ms, idle_until, registered = ARGV[A + 3], ARGV[A + 4], ARGV[A + 5], ARGV[A + 6] == '1'
local starts = {}
local pops = {}
local unreadables = {}
local refused = {}
local HOLD_MAX = 256
local held = 0
for qi = 1, #KEYS do
  if room <= 0 then break end
  local q = queue(qi)
  -- One EXISTS of the ten pending lists: an idle queue costs that command alone.
  local lists = {}
  for p = 0, 9 do lists[p + 1] = q.base .. pending_of(p) end
  local busy = rcall('EXISTS', unpack(lists)) > 0
  if busy then check(q, 'leases') end
  for p = 9, 0, -1 do
    if not busy then break end
    if room <= 0 or held >= HOLD_MAX then break end
    local list = lists[p + 1]
    local seen = 0
    local want = room
    -- Bounded: a window of entries past those dropped (final or gone) or held back is read at a
    -- time, and at most HOLD_MAX tasks are held back per call.
    for _ = 1, 16 do
      if room <= 0 or held >= HOLD_MAX then break end
      local window = rcall('LRANGE', list, -(seen + want), -(seen + 1))
      if #window == 0 then break end
      prefetch(q, window)
      local j = #window
      while j >= 1 and room > 0 and held < HOLD_MAX do
        local seq = window[j]
        j = j - 1
        seen = seen + 1
        local ok, r = pcall(load, q, seq)
        if not ok then
          check(q, 'failed', 'open')
          unreadables[#unreadables + 1] = { q = q, seq = seq, prio = p }
          r = nil
        end
        if r and not is_final(r.state) then
          local lims = limits_of(q, r)
          local by = nil
          if r.limits ~= '' then
            local why = not lims and 'its limits cannot be read' or limits_problem(q, lims)
            if why then
              check(q, 'failed', 'open')
              -- A workflow member ending Failed delivers its outcome: its link and outbox too.
              if r.chosen ~= '' then
                local bad = member_problem(q, seq)
                if bad then error({ err = bad }) end
              end
              refused[#refused + 1] = { q = q, seq = seq, r = r, why = why }
              r = nil
            else
              by = admit(q, seq, r, lims)
            end
          end
          if by then
            hold(q, seq, by)
            held = held + 1
          elseif r then
            starts[#starts + 1] = { q = q, qi = qi, seq = seq, r = r }
            room = room - 1
          end
        end
      end
      if j >= 1 or #window < want then break end
      -- Entries held back made room for more: read further ahead.
      want = mmin(room + held, 256)
    end
    if seen > 0 then pops[#pops + 1] = { list, seen } end
  end
end

local out = {}
for i = 1, #starts do
  local s = starts[i]
  local r = s.r
  start_task(s.q, s.seq, r, worker, deadline)
  s.id = id_of(s.q, s.seq, r)
  local body = r.name == '' and names.full(s.q, r.body, 1) or r.body
  out[i] = spack('>HI4BI6', mmin(r.attempt, 65535), r.fence, r.prio, tonumber(deadline))
    .. pack2(#s.q.name) .. s.q.name .. pack2(#s.id) .. s.id .. pack4(#body) .. body
end
add_leases()
for i = 1, #unreadables do
  local u = unreadables[i]
  unreadable(u.q, u.seq, u.prio)
end
-- A limited task whose limits cannot be kept (unreadable, or a key of another type) ends Failed
-- with the reason instead of running unlimited or failing every fetch of its queue.
for i = 1, #refused do
  local f = refused[i]
  f.r.state = FAILED
  f.r.updated = NOW
  f.r.err = error_bytes('TypedTasks.LimitUnavailable', 'The task was not started: ' .. f.why .. '.')
  finish(f.q, f.seq, f.r)
end
write_staged()
for i = 1, #pops do
  rcall('RPOP', pops[i][1], pops[i][2])
end
if hand and hand ~= '' then
  local idle = #starts == 0 and room > 0 and held < HOLD_MAX
  local entry = idle and (worker .. ' ' .. sformat('%d', room) .. ' ' .. lease_ms .. ' ' .. idle_until)
  for qi = 1, #KEYS do
    local q = queue(qi)
    -- pcall: an idle key of another type is left as it is (no entry there).
    if idle then
      pcall(rcall, 'HSET', q.base .. 'idle', hand, entry)
    elseif registered then
      pcall(rcall, 'HDEL', q.base .. 'idle', hand)
    end
  end
end
flush()
-- More tasks may be startable than this call reached (it held back as many as it may): the
-- caller fetches again at once instead of waiting for a wake.
if held >= HOLD_MAX and room > 0 then out[#out + 1] = 'more' end
return out
