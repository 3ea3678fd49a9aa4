-- Settles leases (the runs of many executors, grouped by the client): one outcome per task.
-- ARGV[A..]    seven per lease: queue index, the id's part before '@', fence, kind, payload, retry
--              due (unix ms), task name (kept in the record once the envelope is dropped)
--   kind 's'   Succeeded, payload the result (the envelope is dropped, the task name kept)
--   kind 'f'   Failed, payload the error; kind 'e' Expired; kind 'c' Canceled
--   kind 'r'   Retrying until the due time, payload the error; the due time is announced on the
--              wake channel ('<queue>@<unix ms>', the earliest per queue of the call)
--   kind 'l'   released: Pending again at the head of its list, this run not counted
-- Returns      two per lease: the outcome and a message, then four per follow-up of a workflow
--              member made final (shared.lua): the lease's number, 'o' and the outbox entry's
--              sequence and bytes (the caller delivers it), or 'x', '' and the member ids of a
--              join that failed (the caller cancels those not started). Then 1 settled, 0 not this run's lease
--              (nothing changed), -1 a key the settle reads or writes (the task's bucket or side
--              key, or its queue's leases, retrying, final index, open counter or pending list,
--              or, for a workflow member that ends, its queue's link hash or outbox)
--              holds another Redis type: that task is left as it is, the message names the key,
--              and the other leases go on.
-- A record already final whose fence matches and whose lease is still there (canceled while it
-- ran): its lease is dropped, 1; without its lease (settled already, or dropped by recover): 0.
-- Order: per lease, the record is read and every key its settle writes is checked first; then
-- the record and its new index entry are written; the leases of the call are removed only after
-- every write (one ZREM per queue; the key goes when only its skiplist member is left, shared.lua
-- unlease), and a final index past its cap is trimmed once per call.
-- The end of a limited task's run gives its concurrency slots back (unlimit, shared.lua).
local count = (#ARGV - A + 1) / 7
local out = {}
local FINAL_OF = { s = 'succeeded', f = 'failed', e = 'expired', c = 'canceled' }

-- The problem of a key the settle of record r (task seq, kind) writes, or nil.
local function settle_problem(q, seq, r, kind)
  local p = problem_at(q, 'leases')
  if p or is_final(r.state) or r.state ~= STARTED then return p end
  if kind == 'l' then return problem_at(q, pending_of(r.prio)) end
  if kind == 'r' then return problem_at(q, 'retrying') end
  p = problem_at(q, FINAL_OF[kind]) or problem_at(q, 'open')
  if p or r.chosen == '' then return p end
  return member_problem(q, seq)
end

staging = true
-- The sequences of the leases: an id of the queue's epoch names its own; the chosen ids are read
-- with one MGET per queue (a key of another type reads as none, as resolve's GET would). Then the
-- records, one HMGET per bucket; and the workflow links of tasks with a chosen id that end now,
-- one HMGET per queue (a link hash of another type is answered per lease by settle_problem).
local wanted, linked, seqs, chosen, qis = {}, {}, {}, {}, {}
for i = 1, count do
  local at = A + (i - 1) * 7
  local qi = num(ARGV[at])
  qis[i] = qi
  local q = queue(qi)
  local e, n = epoch_form(ARGV[at + 1])
  if e and e == epoch(q) then
    seqs[i] = n
  else
    seqs[i] = false
    chosen[qi] = chosen[qi] or {}
    chosen[qi][#chosen[qi] + 1] = i
  end
end
for qi, list in pairs(chosen) do
  local q = queue(qi)
  local keys = {}
  for k, i in ipairs(list) do keys[k] = q.base .. 'id:' .. ARGV[A + (i - 1) * 7 + 1] end
  local values = rcall('MGET', unpack(keys))
  for k, i in ipairs(list) do
    seqs[i] = values[k] or false
    if values[k] and FINAL_OF[ARGV[A + (i - 1) * 7 + 3]] then
      linked[qi] = linked[qi] or {}
      linked[qi][#linked[qi] + 1] = values[k]
    end
  end
end
for i = 1, count do
  local qi = qis[i]
  if seqs[i] then
    wanted[qi] = wanted[qi] or {}
    wanted[qi][#wanted[qi] + 1] = seqs[i]
  end
end
for qi, list in pairs(wanted) do prefetch(queue(qi), list) end
for qi, list in pairs(linked) do
  local q = queue(qi)
  local ok, values = pcall(rcall, 'HMGET', q.base .. 'link', unpack(list))
  if ok then
    q.links = q.links or {}
    for k, seq in ipairs(list) do q.links[seq] = values[k] or false end
  end
end

for i = 1, count do
  serving = i
  local at = A + (i - 1) * 7
  local q = queue(qis[i])
  local seq = seqs[i] or nil
  local fence = num(ARGV[at + 2])
  local kind = ARGV[at + 3]
  local r, bad = nil, false
  if seq then r, bad = try_load(q, seq) end
  local p = nil
  if bad then
    p = 'WRONGTYPE the bucket or side key of task ' .. ARGV[at + 1] .. ' holds another Redis type; nothing was changed'
  elseif r and r.fence == fence then
    p = settle_problem(q, seq, r, kind)
  end
  out[2 * i] = p or ''
  if p then
    out[2 * i - 1] = -1
  elseif not r or r.fence ~= fence then
    out[2 * i - 1] = 0
  elseif is_final(r.state) then
    -- Canceled while it ran, or settled earlier in this call: its lease (if it still has one)
    -- leaves with the others below, after every write of the call.
    if q.unleased[seq] or not rcall('ZSCORE', q.base .. 'leases', seq) then
      out[2 * i - 1] = 0
    else
      q.unleased[seq] = true
      q.unleased[#q.unleased + 1] = seq
      unlimit(q, seq, r)
      out[2 * i - 1] = 1
    end
  elseif r.state ~= STARTED then
    out[2 * i - 1] = 0
  else
    r.updated = NOW
    if kind == 'l' then
      r.state = PENDING
      r.attempt = mmax(r.attempt - 1, 0)
      save(q, seq, r)
      push_pending(q, seq, r.prio, true)
    elseif kind == 'r' then
      r.state = RETRYING
      r.err = ARGV[at + 4]
      save(q, seq, r)
      local due = tonumber(ARGV[at + 5])
      rcall('ZADD', q.base .. 'retrying', due, seq)
      -- Announced (flush), so that every worker of the queue promotes it when due, not only this
      -- process, which may stop before then.
      if not q.due or due < q.due then q.due = due end
    else
      if kind == 's' then
        r.state = SUCCEEDED
        r.body = ARGV[at + 4]
        r.err = ''
        local name = ARGV[at + 6]
        if #name > 255 then name = ssub(name, 1, 255) end
        r.name = name
      elseif kind == 'f' then
        r.state = FAILED
        r.err = ARGV[at + 4]
      elseif kind == 'e' then
        r.state = EXPIRED
      else
        r.state = CANCELED
      end
      finish(q, seq, r)
    end
    if not q.unleased[seq] then
      q.unleased[seq] = true
      q.unleased[#q.unleased + 1] = seq
    end
    unlimit(q, seq, r)
    out[2 * i - 1] = 1
  end
end
write_staged()
-- The settled leases leave last, one ZREM per queue (after every write of the call).
for _, q in pairs(queues) do
  if #q.unleased > 0 then unlease(q, q.unleased) end
end
flush()
for k = 1, #followups do out[2 * count + k] = followups[k] end
return out
