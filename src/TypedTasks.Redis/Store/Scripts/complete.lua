-- Settles leases (the runs of many executors, grouped by the client): one outcome per task.
-- ARGV[A..]    seven per lease: queue index, the id's part before '@', fence, kind, payload, retry
--              due (unix ms), task name (kept in the record once the envelope is dropped)
--   kind 's'   Succeeded, payload the result (the envelope is dropped, the task name kept)
--   kind 'f'   Failed, payload the error; kind 'e' Expired; kind 'c' Canceled
--   kind 'r'   Retrying until the due time, payload the error
--   kind 'l'   released: Pending again at the head of its list, this run not counted
-- Returns      per lease: 1 settled, 0 not this run's lease (nothing changed), -1 the task's own
--              keys hold another Redis type (that task is left as it is, the others go on).
-- A record already final whose fence matches and whose lease is still there (canceled while it
-- ran): its lease is dropped, 1; without its lease (settled already, or dropped by recover): 0.
-- Order: the queue keys written are checked first; per task, the record and its new index entry
-- are written before its lease is removed.
local count = (#ARGV - A + 1) / 7
local out = {}
for i = 1, count do
  local at = A + (i - 1) * 7
  local q = queue(tonumber(ARGV[at]))
  check(q, 'leases', 'retrying')
  check_final(q)
  if ARGV[at + 3] == 'l' then check_pending(q) end
end
for i = 1, count do
  local at = A + (i - 1) * 7
  local q = queue(tonumber(ARGV[at]))
  local seq = resolve(q, ARGV[at + 1])
  local fence = tonumber(ARGV[at + 2])
  local kind = ARGV[at + 3]
  local r, bad = nil, false
  if seq then r, bad = try_load(q, seq) end
  if bad then
    out[i] = -1
  elseif not r or r.fence ~= fence then
    out[i] = 0
  elseif is_final(r.state) then
    out[i] = redis.call('ZREM', q.base .. 'leases', seq)
  elseif r.state ~= STARTED then
    out[i] = 0
  else
    r.updated = NOW
    if kind == 'l' then
      r.state = PENDING
      r.attempt = math.max(r.attempt - 1, 0)
      save(q, seq, r)
      push_pending(q, seq, r.prio, true)
    elseif kind == 'r' then
      r.state = RETRYING
      r.err = ARGV[at + 4]
      save(q, seq, r)
      redis.call('ZADD', q.base .. 'retrying', tonumber(ARGV[at + 5]), seq)
    else
      if kind == 's' then
        r.state = SUCCEEDED
        r.body = ARGV[at + 4]
        r.err = ''
        r.name = string.sub(ARGV[at + 6], 1, 255)
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
    redis.call('ZREM', q.base .. 'leases', seq)
    out[i] = 1
  end
end
flush()
return out
