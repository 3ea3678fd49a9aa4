-- Stores new tasks (one EnqueueAsync each, or one EnqueueManyAsync), all or nothing.
-- ARGV[A]      an epoch for a queue whose seq key does not exist yet
-- ARGV[A+1..]  five per task: queue index (its KEYS entry), priority, due (unix ms, 0: now),
--              chosen id ('' when none), envelope
-- Returns      the id of each task, in order (a chosen id already used: the id of the task there).
-- Order: everything is checked and planned first (no write can fail after that: the keys it
-- writes were checked), then records, counters and indexes are written; nothing is removed.
local candidate = ARGV[A]
local count = (#ARGV - A) / 5
local plan = {}
local next_seq = {}
local taken = {}
for i = 1, count do
  local at = A + 1 + (i - 1) * 5
  local qi = tonumber(ARGV[at])
  local q = queue(qi)
  check(q, 'seq', 'open')
  if next_seq[qi] == nil then next_seq[qi] = tonumber(redis.call('HGET', q.seq, 'next') or '0') end
  local chosen = ARGV[at + 3]
  local existing = nil
  local e = epoch_form(chosen)
  if e and (e == epoch(q) or (not epoch(q) and e == candidate)) then
    error({ err = 'ERR the chosen task id ' .. chosen .. ' has the form of an id the store makes in queue ' .. q.name .. '; choose another' })
  end
  if chosen ~= '' then
    local idkey = q.base .. 'id:' .. chosen
    need(idkey, 'string')
    existing = taken[qi .. '@' .. chosen] or redis.call('GET', idkey)
  end
  local item = { q = q, qi = qi, prio = tonumber(ARGV[at + 1]), due = tonumber(ARGV[at + 2]), chosen = chosen,
    name = '', body = ARGV[at + 4] }
  if existing then
    item.existing = true
    item.id = chosen .. '@' .. q.name
  else
    next_seq[qi] = next_seq[qi] + 1
    item.seq = tostring(next_seq[qi])
    local bucket = bucket_of(q, item.seq)
    if not q.checked[bucket] then
      need(bucket, 'hash')
      q.checked[bucket] = true
    end
    if item.due > NOW then check(q, 'sched') else check(q, 'pending:' .. item.prio) end
    if chosen ~= '' then taken[qi .. '@' .. chosen] = item.seq end
  end
  plan[i] = item
end

for qi, n in pairs(next_seq) do
  local q = queue(qi)
  if not epoch(q) then
    redis.call('HSET', q.seq, 'epoch', candidate)
    q.epoch = candidate
  end
  redis.call('HSET', q.seq, 'next', n)
end

local ids = {}
local opening = {}
for i = 1, count do
  local item = plan[i]
  local q = item.q
  if item.existing then
    ids[i] = item.id
  else
    local r = create(q, item)
    local bucket = item.qi .. ':' .. bucket_no(item.seq)
    local open = opening[bucket]
    if open then open.n = open.n + 1 else opening[bucket] = { q = q, seq = item.seq, n = 1 } end
    ids[i] = id_of(q, item.seq, r)
  end
end
for _, open in pairs(opening) do opened_n(open.q, open.seq, open.n) end
flush()
return ids
