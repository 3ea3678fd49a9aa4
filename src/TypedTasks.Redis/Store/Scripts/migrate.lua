-- Moves messages left by the 0.1 layout in the queue KEYS[1] into the store: the ready lists
-- P:{q}:ready:<p>, the in-flight lists of 0.1 workers whose heartbeat ended (P:{q}:workers,
-- P:{q}:inflight:<worker>) and the scheduled set P:{q}:scheduled. Each message becomes a task
-- whose chosen id is the id in its version-1 envelope (so a waiter's id still names it), kept
-- as it is; one already moved (its id taken) is only removed from the old key.
-- ARGV[A]      the client's part of the epoch of a queue whose seq key does not exist yet; ARGV[A+1] the most messages
-- Returns      how many messages left the old keys (call again until 0).
-- Order: old keys are only read, and every key written is checked, before anything is written;
-- the new records and indexes are written before the old entries are removed.
local q = queue(1)
local room = tonumber(ARGV[A + 1])
check(q, 'seq', 'open', 'sched')
check_pending(q)
local items = {}
local pops = {}
local zrems = {}
local emptied = {}

local function take(body, prio, due)
  local ok, t = pcall(cmsgpack.unpack, body)
  local id = nil
  if ok and type(t) == 'table' and type(t[2]) == 'string' and t[2] ~= '' then id = t[2] end
  items[#items + 1] = { body = body, prio = prio, due = due, chosen = id or '', name = '' }
  room = room - 1
end

for p = 9, 0, -1 do
  if room <= 0 then break end
  local list = q.base .. 'ready:' .. p
  local page = redis.call('LRANGE', list, -room, -1)
  for j = #page, 1, -1 do take(page[j], p, nil) end
  if #page > 0 then pops[#pops + 1] = { list, #page } end
end
if room > 0 then
  local dead = redis.call('ZRANGEBYSCORE', q.base .. 'workers', '-inf', '(' .. NOW)
  for w = 1, #dead do
    if room <= 0 then break end
    local list = q.base .. 'inflight:' .. dead[w]
    local page = redis.call('LRANGE', list, -room, -1)
    for j = #page, 1, -1 do
      local entry = page[j]
      take(string.sub(entry, 2), math.min(string.byte(entry, 1), 9), nil)
    end
    if #page > 0 then pops[#pops + 1] = { list, #page } end
    if redis.call('LLEN', list) == #page then emptied[#emptied + 1] = dead[w] end
  end
end
if room > 0 then
  local page = redis.call('ZRANGE', q.base .. 'scheduled', 0, room - 1, 'WITHSCORES')
  for i = 1, #page, 2 do
    local member = page[i]
    take(string.sub(member, 2), math.min(string.byte(member, 1), 9), tonumber(page[i + 1]))
    zrems[#zrems + 1] = member
  end
end

local next_seq = tonumber(redis.call('HGET', q.seq, 'next') or '0')
local claimed = {}
for i = 1, #items do
  local item = items[i]
  if item.chosen ~= '' then
    local idkey = q.base .. 'id:' .. item.chosen
    need(idkey, 'string')
    if claimed[item.chosen] or redis.call('EXISTS', idkey) == 1 then item.skip = true end
    claimed[item.chosen] = true
  end
  if not item.skip then
    next_seq = next_seq + 1
    item.seq = string.format('%d', next_seq) -- not tostring: 14 digits (see join_successor)
    need(bucket_of(q, item.seq), 'hash')
  end
end

if not epoch(q) then
  q.epoch = fresh_epoch(q, ARGV[A])
  redis.call('HSET', q.seq, 'epoch', q.epoch)
end
redis.call('HSET', q.seq, 'next', next_seq)
for i = 1, #items do
  local item = items[i]
  if not item.skip then
    local r = create(q, item)
    opened(q, item.seq, r)
  end
end

for i = 1, #pops do redis.call('RPOP', pops[i][1], pops[i][2]) end
for first = 1, #zrems, 1000 do
  redis.call('ZREM', q.base .. 'scheduled', unpack(zrems, first, math.min(first + 999, #zrems)))
end
for i = 1, #emptied do redis.call('ZREM', q.base .. 'workers', emptied[i]) end
flush()
return #items
