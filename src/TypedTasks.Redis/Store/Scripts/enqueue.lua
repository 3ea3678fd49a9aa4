-- Stores new tasks for many callers at once: each request (one EnqueueAsync, or one
-- EnqueueManyAsync) is stored all or nothing, and a request refused leaves the others stored.
-- ARGV[A]      the client's part of the epoch of a queue whose seq key does not exist yet
-- ARGV[A+1]    '1' when the subscribers of a channel are all counted where this script runs (a
--              single server with no replica: see idle_workers), '0' on a Cluster or with replicas
-- ARGV[A+2..]  per request: queue index (its KEYS entry), task count n, then eight per task:
--              priority, due (unix ms, 0: now), chosen id ('' when none), envelope, workflow link
--              ('' when none; else cmsgpack { join queue, join key, index }, kept in P:{q}:link),
--              unique key ('' when none), unique for (ms), limits ('' when none; else cmsgpack
--              { { key, count, window ms or 0 }, ... }, kept in the record: shared.lua, limits)
-- Returns      per request, in order: { 'i', id of each task } (a chosen id already used, or a
--              unique key whose lock names a task that is not final: the id of the task there);
--              { 'w', message } a key it needs holds another Redis type;
--              { 'c', message } a chosen id has the form of the ids the store makes.
-- Order: every request is checked and planned first, reads only (a refused one gives back the
-- sequences it planned); then records, counters and indexes are written, to keys checked.
-- Nothing is removed. A unique lock, P:{q}:u:<key>, holds the sequence of the task that took it,
-- with a PX of its unique-for time; a lock whose task is final or gone is taken over (set anew).
-- P:{q}:locks, a sorted set of the keys by when their lock lapses, lists them for tools.
-- Two tasks with one key in one call: the second is the first.
staging = true
local candidate = ARGV[A]
local answers = {}
local plans = {}
local next_seq = {}
local used = {}
local taken = {}
local locking = {}
local STRIDE = 8
-- The bucket of the last sequence planned, its number and text (and per queue, q.bucket_checked,
-- the last bucket whose key was checked): a call's sequences are consecutive per queue, 128 to a bucket.
local last_bucket, last_bucket_no = nil, nil

-- Plans one request; returns its items, or nil, the answer code and the message. The chosen ids
-- it takes are listed in claims.
local function plan_request(qi, q, from, n, claims)
  local p = problem_of(q, 'seq', 'open')
  if p then return nil, 'w', p end
  if next_seq[qi] == nil then next_seq[qi] = tonumber(redis.call('HGET', q.seq, 'next') or '0') end
  -- The chosen ids of the request, one MGET; MGET reads a key of another type as none, so the
  -- keys it found nothing at are counted (EXISTS): when one is there after all, each id is read
  -- alone (below), and GET fails on the one of another type.
  local tag = ARGV[from - 2] .. '@' -- the queue index as sent: names the queue in taken
  local known = {}
  local keys = {}
  -- Each key name is made once per task (a new string costs a copy and a hash): kept by task.
  local idkeys = {}
  for t = 1, n do
    local chosen = ARGV[from + (t - 1) * STRIDE + 2]
    if chosen ~= '' then
      local key = q.base .. 'id:' .. chosen
      keys[#keys + 1] = key
      idkeys[t] = key
    end
  end
  for first = 1, #keys, 1000 do
    local part = { unpack(keys, first, math.min(first + 999, #keys)) }
    local values = redis.call('MGET', unpack(part))
    local none = {}
    for k, key in ipairs(part) do
      if values[k] then known[key] = values[k] else none[#none + 1] = key end
    end
    if #none > 0 and redis.call('EXISTS', unpack(none)) > 0 then
      known = {}
      break
    end
    for _, key in ipairs(none) do known[key] = false end
  end
  local items = {}
  for t = 1, n do
    local at = from + (t - 1) * STRIDE
    local chosen = ARGV[at + 2]
    local e = chosen ~= '' and epoch_form(chosen)
    if e and e == (epoch(q) or fresh_epoch(q, candidate)) then
      return nil, 'c', 'the chosen task id ' .. chosen .. ' has the form of an id the store makes in queue ' .. q.name .. '; choose another'
    end
    local existing = nil
    local claim_id = chosen ~= '' and tag .. chosen
    if claim_id then
      existing = taken[claim_id]
      if not existing then
        local key = idkeys[t]
        existing = known[key]
        if existing == nil then
          -- GET fails on a key of another type: only then is its type asked, for the message.
          local ok, v = pcall(redis.call, 'GET', key)
          if not ok then return nil, 'w', problem(key, 'string') end
          existing = v
        end
      end
    end
    local item = { q = q, qi = qi, new = true, prio = num(ARGV[at]), due = num(ARGV[at + 1]), chosen = chosen,
      name = '', body = ARGV[at + 3], link = ARGV[at + 4], unique = ARGV[at + 5], unique_for = ARGV[at + 6],
      limits = ARGV[at + 7], idkey = idkeys[t] }
    if existing then
      item.existing = true
      item.id = chosen .. '@' .. q.name
    elseif item.unique ~= '' then
      p = problem_at(q, 'u:' .. item.unique, 'string') or problem_at(q, 'locks', 'zset')
      if p then return nil, 'w', p end
      local claim = qi .. '@' .. item.unique
      local first = locking[claim]
      if first then
        item.same = first
      else
        local seq = redis.call('GET', q.base .. 'u:' .. item.unique)
        if seq then
          local ok, r = pcall(load, q, seq)
          if not ok then return nil, 'w', 'the unique lock of ' .. item.unique .. ' in queue ' .. q.name .. ' names a task whose record cannot be read: ' .. tostring(r and r.err or r) end
          if r and not is_final(r.state) then
            item.existing = true
            item.id = id_of(q, seq, r)
          end
        end
        if not item.existing then
          locking[claim] = item
          claims[#claims + 1] = locking
          claims[#claims + 1] = claim
        end
      end
    end
    if not existing and not item.existing and not item.same then
      local n = next_seq[qi] + 1
      next_seq[qi] = n
      item.seq = sformat('%d', n)
      -- From the number at hand, and made text once per bucket (128 sequences).
      local b = mfloor(n / 128)
      if b ~= last_bucket then last_bucket, last_bucket_no = b, sformat('%d', b) end
      bucket_no_put(item.seq, last_bucket_no)
      local index = item.due > NOW and 'sched' or pending_of(item.prio)
      -- The bucket's key is looked at once per call (problem_at), its name made once per bucket.
      if last_bucket_no ~= q.bucket_checked then
        p = problem_at(q, 't:' .. last_bucket_no, 'hash')
        if p then return nil, 'w', p end
        q.bucket_checked = last_bucket_no
      end
      p = problem_of(q, index)
      if not p and item.link ~= '' then p = problem_at(q, 'link', 'hash') end
      if p then return nil, 'w', p end
      if claim_id then
        taken[claim_id] = item.seq
        claims[#claims + 1] = taken
        claims[#claims + 1] = claim_id
      end
    end
    items[t] = item
  end
  return items
end

local at = A + 2
local r = 0
while at <= #ARGV do
  r = r + 1
  local qi = num(ARGV[at])
  local n = num(ARGV[at + 1])
  local q = queue(qi)
  local before = next_seq[qi]
  local claims = {}
  local items, code, message = plan_request(qi, q, at + 2, n, claims)
  if items then
    plans[r] = items
    for _, item in ipairs(items) do
      if not item.existing and not item.same then used[qi] = true end
    end
  else
    -- Refused: the sequences and chosen ids it planned are given back.
    next_seq[qi] = before
    for k = 1, #claims, 2 do claims[k][claims[k + 1]] = nil end
    answers[r] = { code, message }
  end
  at = at + 2 + n * STRIDE
end

for qi in pairs(used) do
  local q = queue(qi)
  if not epoch(q) then
    q.epoch = fresh_epoch(q, candidate)
    redis.call('HSET', q.seq, 'epoch', q.epoch)
  end
  -- The producer's result TTL becomes the queue's: whoever ends its tasks keeps them that long.
  redis.call('HSET', q.seq, 'next', next_seq[qi], 'ttl', TTL)
  q.ttl = TTL
end

-- Hand-off (fetch.lua, idle entries): a queue with no pending entry and an idle worker with
-- room gets its new immediate tasks started for that worker here, as its fetch would start them
-- (highest priority first, oldest first; at a limited task the rest go the normal way, behind
-- it), and the starts published on the worker's own channel, one message per worker; no wake.
-- A queue whose limits hold tasks back hands nothing.
-- An entry past its time, with no room, or that cannot be read is passed over (one past its time
-- or that cannot be read is removed too); so is the queue when its idle or leases key holds
-- another type (its tasks are pushed as usual). On a single server, so is an entry whose store
-- has no subscriber on its channel (PUBSUB NUMSUB), and it is removed: its process was killed
-- while idle (its connections closed with it) or its subscription is being made again, and a
-- task handed to it would wait a lease time. (A host that died with the worker leaves its
-- subscription counted until the server's TCP keepalive drops it.)
-- (On a Cluster, or a server with replicas, a channel's subscribers may be on another node, where
-- NUMSUB does not count them: there such a task comes back by recovery.)
local hand_prefix = string.sub(WAKE, 1, -5) .. 'hand:'
local handed = {}
-- Entries past their time or that cannot be read, per queue: removed at the end of the call (a
-- store killed while idle never removes its own; every enqueue reads the hash whole).
local expired = {}
local function idle_workers(q)
  local ok, all = pcall(redis.call, 'HGETALL', q.base .. 'idle')
  if not ok or #all == 0 then return nil end
  local list, gone = {}, {}
  for i = 1, #all, 2 do
    local w, room, lease, till = string.match(all[i + 1], '^(%d+) (%d+) (%d+) (%d+)$')
    -- A worker number or lease no start can be made with (a record keeps 255 bytes of worker, a
    -- frame 6 bytes of deadline) makes the entry unreadable.
    if not w or #w > 20 or #lease > 12 or tonumber(till) <= NOW then
      gone[#gone + 1] = all[i]
    elseif tonumber(room) > 0 then
      list[#list + 1] = { hand = all[i], worker = w, room = tonumber(room), lease = lease, till = till, frames = {}, q = q }
    end
  end
  -- (gone may grow below: the entries of stores nobody listens for.)
  expired[#expired + 1] = { key = q.base .. 'idle', fields = gone }
  if #list == 0 or problem_at(q, 'leases') then return nil end
  -- Tasks held back by limits are Pending and older: they go first once let go.
  if tonumber(redis.call('HGET', q.seq, 'held') or '0') > 0 then return nil end
  local lists = {}
  for p = 0, 9 do lists[p + 1] = q.base .. pending_of(p) end
  if redis.call('EXISTS', unpack(lists)) > 0 then return nil end
  if ARGV[A + 1] == '1' then
    local live = {}
    -- At most 1,000 channels per NUMSUB (unpack takes at most about 8,000 values); a NUMSUB
    -- refused takes its stores for live.
    for first = 1, #list, 1000 do
      local last = math.min(first + 999, #list)
      local channels = {}
      for k = first, last do channels[#channels + 1] = hand_prefix .. list[k].hand end
      local ok, counts = pcall(redis.call, 'PUBSUB', 'NUMSUB', unpack(channels))
      for k = first, last do
        local w = list[k]
        if ok and tonumber(counts[2 * (k - first + 1)]) == 0 then gone[#gone + 1] = w.hand else live[#live + 1] = w end
      end
    end
    list = live
  end
  if #list == 0 then return nil end
  return list
end
-- The candidates of a queue highest priority first, oldest first: grouped by priority, each
-- group in its order (a sort of a chord's thousand members with a Lua comparator would cost
-- about 9,000 instructions a task; the priorities met are few).
local function by_priority(c)
  local groups, prios = {}, {}
  for _, item in ipairs(c) do
    local g = groups[item.prio]
    if not g then g = {}; groups[item.prio] = g; prios[#prios + 1] = item.prio end
    g[#g + 1] = item
  end
  if #prios == 1 then return c end
  table.sort(prios, function(x, y) return x > y end)
  local out = {}
  for _, prio in ipairs(prios) do
    for _, item in ipairs(groups[prio]) do out[#out + 1] = item end
  end
  return out
end
-- The candidates; and the buckets this call gives at least 64 records over 64 bytes (half a
-- bucket), which become wide (shared.lua, save): a new record is 22 bytes, its chosen id, its
-- limits (2-byte length first) and its envelope (a task handed to an idle worker below adds its
-- worker number, not counted: it only decides whether a bucket turns wide). Only the requests
-- kept are counted. (A block: its locals do not count towards the script's limit further on.)
local candidates = {}
do
  local longs = {}
  for i = 1, r do
    local items = plans[i]
    if items then
      for _, item in ipairs(items) do
        if item.seq and not item.existing and not item.same then
          -- The envelope as its record will hold it (a long name as its number, shared.lua).
          item.stored, item.mark = names.stored(item.q, item.body)
          local size = 22 + #item.chosen + #item.stored + (item.mark and #item.mark or 0)
          if item.limits ~= '' then size = size + 2 + #item.limits end
          if size > INLINE_MAX then
            local q, bk = item.q, bucket_of(item.q, item.seq)
            local n = (longs[bk] or 0) + 1
            longs[bk] = n
            if n == 64 then
              q.wide = q.wide or {}
              q.wide[bk] = true
            end
          end
          if item.due <= NOW then
            local c = candidates[item.qi]
            if not c then c = {}; candidates[item.qi] = c end
            c[#c + 1] = item
          end
        end
      end
    end
  end
end
for qi, c in pairs(candidates) do
  local workers = idle_workers(queue(qi))
  if workers then
    local left = #workers
    for _, item in ipairs(by_priority(c)) do
      if item.limits ~= '' or left == 0 then break end
      -- The worker with the most room (the first of equals): tasks enqueued one after the other
      -- spread over the idle workers, as their fetches would share them, rather than wait in the
      -- first one registered.
      local worker = workers[1]
      for k = 2, #workers do
        if workers[k].room > worker.room then worker = workers[k] end
      end
      worker.room = worker.room - 1
      if worker.room == 0 then left = left - 1 end
      -- The deadline made text once per worker.
      if not worker.deadline then
        worker.deadline_n = NOW + tonumber(worker.lease)
        worker.deadline = sformat('%d', worker.deadline_n)
      end
      item.start = { worker = worker.worker, deadline = worker.deadline, to = worker }
      if not worker.used then worker.used = true; handed[#handed + 1] = worker end
    end
  end
end

local opening = {}
local links = {}
for i = 1, r do
  local items = plans[i]
  if items then
    local ids = { 'i' }
    for t = 1, #items do
      local item = items[t]
      local q = item.q
      if item.existing then
        ids[t + 1] = item.id
      elseif item.same then
        ids[t + 1] = item.same.id
      else
        local rec = create(q, item)
        if item.link ~= '' then
          -- One HSET per queue and call (below).
          local l = links[q.base] or { key = q.base .. 'link' }
          links[q.base] = l
          l[#l + 1] = item.seq
          l[#l + 1] = item.link
        end
        local byq = opening[q]
        if not byq then byq = {}; opening[q] = byq end
        local no = bucket_no(item.seq)
        local open = byq[no]
        if open then open.n = open.n + 1 else byq[no] = { q = q, seq = item.seq, n = 1 } end
        item.id = id_of(q, item.seq, rec)
        if item.unique ~= '' then
          redis.call('SET', q.base .. 'u:' .. item.unique, item.seq, 'PX', item.unique_for)
          if not q.locks_pruned then
            redis.call('ZREMRANGEBYSCORE', q.base .. 'locks', '-inf', NOW)
            q.locks_pruned = true
          end
          redis.call('ZADD', q.base .. 'locks', NOW + tonumber(item.unique_for), item.unique)
        end
        ids[t + 1] = item.id
        local start = item.start
        if start then
          -- A start frame, as a fetch answers its starts (docs/wire-format.md, "Start frame").
          local f = start.to.frames
          f[#f + 1] = spack('>HI4BI6', rec.attempt, rec.fence, rec.prio, start.to.deadline_n)
            .. pack2(#q.name) .. q.name .. pack2(#item.id) .. item.id .. pack4(#item.body) .. item.body
        end
      end
    end
    answers[i] = ids
  end
end
for _, l in pairs(links) do
  for first = 1, #l, 1000 do redis.call('HSET', l.key, unpack(l, first, math.min(first + 999, #l))) end
end
for _, byq in pairs(opening) do
  for _, open in pairs(byq) do opened_n(open.q, open.seq, open.n) end
end
add_leases()
for _, worker in ipairs(handed) do
  redis.call('HSET', worker.q.base .. 'idle', worker.hand,
    worker.worker .. ' ' .. worker.room .. ' ' .. worker.lease .. ' ' .. worker.till)
end
for _, e in ipairs(expired) do
  for first = 1, #e.fields, 1000 do redis.call('HDEL', e.key, unpack(e.fields, first, math.min(first + 999, #e.fields))) end
end
flush()
-- Last: the records and leases are written, so a start that is lost on the way (the worker's
-- subscription down, the worker gone) comes back when its lease expires. So does one whose
-- PUBLISH is refused (an ACL user without the hand-off channels): the call answers its ids all
-- the same, since an error would have its caller send again tasks that are stored.
for _, worker in ipairs(handed) do
  pcall(redis.call, 'PUBLISH', hand_prefix .. worker.hand, table.concat(worker.frames))
end
return answers
