-- Shared by every task store script, so the record format, the key names, "is final" and the
-- checks live in one place. StoreLibrary makes one Redis function library of this text and every
-- script (each script's text becomes the body of a function that first calls begin below): this
-- text runs once when the library is loaded, not on every call. On a server without functions
-- each script is sent as this text, a call of begin with its KEYS and ARGV, and its own text.
--
-- KEYS[i]    the `seq` key of a queue, P:{q}:seq; it names the queue and its slot, and every other
--            key of the queue is built from it (same {q} tag, same slot).
-- ARGV[1..7] now (unix ms), result TTL (ms), failed index cap, other final index cap, and the
--            wake, done and cancel channels; a script's own arguments start at ARGV[A].
--            The result TTL of a queue is the one its producers gave (the `ttl` field of its
--            seq key, written by enqueue): a worker or a tool that ends a task keeps its result
--            as long as the application that sent it asked, whatever its own setting. ARGV[2]
--            stands in for a queue no enqueue has written it for.
--
-- A record: struct '>BBHI4I6' (state, priority, attempt, fence, updated ms), then the task name
-- (1-byte length; empty while the envelope, which names the task, is kept: only a Succeeded
-- record has one), the worker (1-byte length), the chosen id (2-byte length), the error (4-byte
-- length), and the rest: the envelope, or the result once Succeeded. A record of at most 64 bytes is a
-- field of its bucket hash P:{q}:t:<seq >> 7> (which then stays a listpack); a longer one is the
-- string P:{q}:x:<seq> and the bucket field holds 'x'.
-- The state of one call, set by begin (a library's locals outlive the call: begin resets them all).
local KEYS, ARGV, NOW, TTL, FAILED_CAP, FINAL_CAP, WAKE, DONE, CANCEL
local A = 8
local queues, staging, staged, pushes, closes, lists, unsided, frames, cancels

local PENDING, SCHEDULED, STARTED, RETRYING = 0, 1, 2, 3
local SUCCEEDED, FAILED, CANCELED, EXPIRED = 4, 5, 6, 7
local SIDE = 'x'
local INLINE_MAX = 64 -- a hash stays a listpack while no value is longer than hash-max-listpack-value (64)
local FINAL_INDEX = { [4] = 'succeeded', [5] = 'failed', [6] = 'canceled', [7] = 'expired' }
local WAIT_INDEX = { [1] = 'sched', [3] = 'retrying' }
local KIND = { seq = 'hash', open = 'hash', sched = 'zset', retrying = 'zset', leases = 'zset',
  succeeded = 'list', failed = 'list', canceled = 'list', expired = 'list' }
for p = 0, 9 do KIND['pending:' .. p] = 'list' end

local function is_final(state) return state >= SUCCEEDED end

-- What is wrong with a key that holds another Redis type than the store writes there, or nil.
local function problem(key, kind)
  local t = redis.call('TYPE', key).ok
  if t ~= kind and t ~= 'none' then
    return 'WRONGTYPE the task store key ' .. key .. ' holds a ' .. t .. ', not a ' .. kind .. '; nothing was changed'
  end
  return nil
end

-- Fails the whole call, before anything is written, when a key holds another Redis type.
local function need(key, kind)
  local p = problem(key, kind)
  if p then error({ err = p }) end
end

-- The queue of KEYS[i], made once per call.
local function queue(i)
  local q = queues[i]
  if not q then
    local key = KEYS[i]
    q = { seq = key, base = string.sub(key, 1, -4), name = string.match(key, '{(.*)}:seq$'), wake = false, checked = {}, trims = {}, unleased = {} }
    queues[i] = q
  end
  return q
end

-- The result TTL of a queue (see the head of this file), read once per call.
local function ttl_of(q)
  if q.ttl == nil then
    q.ttl = TTL
    if redis.call('TYPE', q.seq).ok == 'hash' then
      local given = tonumber(redis.call('HGET', q.seq, 'ttl') or '')
      if given and given > 0 then q.ttl = given end
    end
  end
  return q.ttl
end

-- The problem of the key q.base .. suffix (looked at once per call), or nil; kind defaults to
-- the KIND of the suffix.
local function problem_at(q, suffix, kind)
  local p = q.checked[suffix]
  if p == nil then
    p = problem(q.base .. suffix, kind or KIND[suffix]) or true
    q.checked[suffix] = p
  end
  if p == true then return nil end
  return p
end

-- The first problem among the named keys of q, or nil. Scripts that serve many callers at once
-- (enqueue, complete) use it to refuse only the requests that need a bad key.
local function problem_of(q, ...)
  for _, suffix in ipairs({ ... }) do
    local p = problem_at(q, suffix)
    if p then return p end
  end
  return nil
end

-- Checks the named keys of q (once per call each): fails the whole call on a bad one.
local function check(q, ...)
  local p = problem_of(q, ...)
  if p then error({ err = p }) end
end

local function check_pending(q)
  for p = 0, 9 do check(q, 'pending:' .. p) end
end

local function check_final(q)
  check(q, 'succeeded', 'failed', 'canceled', 'expired', 'open')
end

local function epoch(q)
  if q.epoch == nil then q.epoch = redis.call('HGET', q.seq, 'epoch') or false end
  return q.epoch
end

-- The epoch of a queue whose seq key is about to be made: the first 8 hex digits of the SHA1 of
-- the client's candidate and the server's time, so that a queue made again after Redis lost it,
-- even by the same client, does not get back the epoch its lost tasks' ids carry.
local function fresh_epoch(q, candidate)
  if not q.fresh then
    local t = redis.call('TIME')
    q.fresh = string.sub(redis.sha1hex(candidate .. ':' .. t[1] .. ':' .. t[2]), 1, 8)
  end
  return q.fresh
end

local function bucket_no(seq) return math.floor(tonumber(seq) / 128) end
local function bucket_of(q, seq) return q.base .. 't:' .. bucket_no(seq) end
local function side_of(q, seq) return q.base .. 'x:' .. seq end

local function rec_read(s)
  local r = {}
  r.state, r.prio, r.attempt, r.fence, r.updated = struct.unpack('>BBHI4I6', s)
  local pos = 15
  local n = string.byte(s, pos)
  r.name = string.sub(s, pos + 1, pos + n); pos = pos + 1 + n
  n = string.byte(s, pos)
  r.worker = string.sub(s, pos + 1, pos + n); pos = pos + 1 + n
  n = struct.unpack('>H', s, pos)
  r.chosen = string.sub(s, pos + 2, pos + 1 + n); pos = pos + 2 + n
  n = struct.unpack('>I4', s, pos)
  r.err = string.sub(s, pos + 4, pos + 3 + n); pos = pos + 4 + n
  r.body = string.sub(s, pos)
  return r
end

local function rec_write(r)
  return struct.pack('>BBHI4I6', r.state, r.prio, math.min(r.attempt, 65535), r.fence, r.updated)
    .. string.char(#r.name) .. r.name .. string.char(#r.worker) .. r.worker
    .. struct.pack('>H', #r.chosen) .. r.chosen .. struct.pack('>I4', #r.err) .. r.err .. r.body
end

-- Batching (fetch, complete, enqueue): a script that sets staging writes the inline records of a
-- call with one HSET per bucket (write_staged, which it calls before it removes anything), and
-- reads the records of a call with one HMGET per bucket (prefetch). Either is seen by load.

-- Reads the records of the sequences seqs of q, one HMGET per bucket; a bucket that cannot be
-- read (another Redis type) is left to load, which raises for each of its tasks.
local function prefetch(q, seqs)
  q.pre = q.pre or {}
  local by_bucket = {}
  for _, seq in ipairs(seqs) do
    if q.pre[seq] == nil then
      local b = bucket_of(q, seq)
      local list = by_bucket[b]
      if not list then list = {}; by_bucket[b] = list end
      list[#list + 1] = seq
    end
  end
  for b, list in pairs(by_bucket) do
    local ok, values = pcall(redis.call, 'HMGET', b, unpack(list))
    if ok then
      for i, seq in ipairs(list) do q.pre[seq] = values[i] or false end
    end
  end
end

-- k tasks of bucket n became final (or were deleted): the bucket expires once none is open.
local function close_n(q, n, k)
  if redis.call('HINCRBY', q.base .. 'open', n, -k) <= 0 then
    redis.call('HDEL', q.base .. 'open', n)
    redis.call('PEXPIRE', q.base .. 't:' .. n, ttl_of(q))
  end
end

-- Writes what is staged: the records, one HSET per bucket; then the side keys of records now
-- inline, one DEL; the final index entries, one LPUSH per index (in the order they were made);
-- the pending entries, one push per list; the closed tasks, one HINCRBY per bucket.
local function write_staged()
  for b, args in pairs(staged) do redis.call('HSET', b, unpack(args)) end
  staged = {}
  local dels = {}
  for key in pairs(unsided) do dels[#dels + 1] = key end
  for first = 1, #dels, 1000 do redis.call('DEL', unpack(dels, first, math.min(first + 999, #dels))) end
  unsided = {}
  for index, push in pairs(pushes) do
    local length = 0
    for first = 1, #push.entries, 1000 do
      length = redis.call('LPUSH', index, unpack(push.entries, first, math.min(first + 999, #push.entries)))
    end
    if length > push.cap then push.q.trims[index] = push.cap end
  end
  pushes = {}
  -- The pending entries, one LPUSH (or RPUSH, to the head of the run order) per list; a list
  -- that held nothing before wakes its fetchers.
  for _, push in pairs(lists) do
    local n, k = 0, #push.entries
    for first = 1, k, 1000 do
      n = redis.call(push.head and 'RPUSH' or 'LPUSH', push.list, unpack(push.entries, first, math.min(first + 999, k)))
    end
    if n == k then push.q.wake = true end
  end
  lists = {}
  for _, c in pairs(closes) do close_n(c.q, c.n, c.k) end
  closes = {}
end

-- The stored bytes of a task (nil when none). Raises on a bucket or side key of another type.
local function load_raw(q, seq)
  local s = q.pre and q.pre[seq]
  if s == nil then s = redis.call('HGET', bucket_of(q, seq), seq) end
  if s == false then s = nil end
  if s == SIDE then return redis.call('GET', side_of(q, seq)), true end
  return s, false
end

-- The record of a task, or nil.
local function load(q, seq)
  local s, side = load_raw(q, seq)
  if not s then return nil end
  local r = rec_read(s)
  r.side = side
  return r
end

-- load in a batch: a task whose own keys hold another type is skipped (-1), not the whole batch.
local function try_load(q, seq)
  local ok, r = pcall(load, q, seq)
  if not ok then return nil, true end
  return r, false
end

-- Writes a record: inline when short, else in its side key (with the TTL when final).
-- Sets a field of a bucket: staged while staging (written by write_staged), else now.
local function bucket_set(q, seq, value)
  local b = bucket_of(q, seq)
  if q.pre then q.pre[seq] = nil end
  if not staging then return redis.call('HSET', b, seq, value) end
  local args = staged[b]
  if not args then args = {}; staged[b] = args end
  args[#args + 1] = seq
  args[#args + 1] = value
  q.pre = q.pre or {}
  q.pre[seq] = value
end

local function save(q, seq, r)
  local s = rec_write(r)
  local side = side_of(q, seq)
  if #s <= INLINE_MAX then
    bucket_set(q, seq, s)
    -- While staging, the side key goes once the bucket field that replaces it is written.
    if r.side then
      if staging then unsided[side] = true else redis.call('DEL', side) end
    end
    r.side = false
  else
    unsided[side] = nil
    if is_final(r.state) then
      redis.call('SET', side, s, 'PX', ttl_of(q))
    else
      redis.call('SET', side, s)
    end
    if not r.side then bucket_set(q, seq, SIDE) end
    r.side = true
  end
  return s
end

-- n tasks of the bucket of seq are not final any more, or again (new, requeued): the bucket must
-- not expire.
local function opened_n(q, seq, n)
  local b = bucket_no(seq)
  if redis.call('HINCRBY', q.base .. 'open', b, n) == n then
    redis.call('PERSIST', q.base .. 't:' .. b)
  end
end

local function opened(q, seq, r)
  opened_n(q, seq, 1)
  if r.chosen ~= '' then redis.call('PERSIST', q.base .. 'id:' .. r.chosen) end
end

-- A task of the bucket became final (or was deleted): the bucket expires once none is open.
local function closed(q, seq)
  local n = bucket_no(seq)
  if not staging then return close_n(q, n, 1) end
  local key = q.base .. n
  local c = closes[key]
  if c then c.k = c.k + 1 else closes[key] = { q = q, n = n, k = 1 } end
end

local function id_of(q, seq, r)
  if r.chosen ~= '' then return r.chosen .. '@' .. q.name end
  return epoch(q) .. '-' .. seq .. '@' .. q.name
end

-- Tells waiters: one frame per final record (id length, id, record length, record).
local function announce(q, seq, r, s)
  local id = id_of(q, seq, r)
  frames[#frames + 1] = struct.pack('>H', #id) .. id .. struct.pack('>I4', #s) .. s
end

-- A final index entry: the sequence and when the task became final (its record's updated time),
-- so that entries older than the result TTL can be dropped from the tail.
local function final_entry(seq, r) return seq .. ':' .. string.format('%.0f', r.updated) end

-- Drops the entries of a final index whose task ended more than the TTL ago (oldest at the tail;
-- bounded per call): its record may be gone, and a count must not include it.
local function trim_final(q, key)
  for _ = 1, 200 do
    local last = redis.call('LINDEX', key, -1)
    if not last then return end
    local ended = tonumber(string.match(last, ':(%d+)$') or '')
    if ended and ended + ttl_of(q) > NOW then return end
    redis.call('RPOP', key)
  end
end

-- Stores a record that just became final and puts it in its capped index (written before any
-- caller removes the task from where it was).
local function finish(q, seq, r)
  local s = save(q, seq, r)
  local index = q.base .. FINAL_INDEX[r.state]
  local cap = r.state == FAILED and FAILED_CAP or FINAL_CAP
  if staging then
    local push = pushes[index]
    if not push then push = { q = q, cap = cap, entries = {} }; pushes[index] = push end
    push.entries[#push.entries + 1] = final_entry(seq, r)
  elseif redis.call('LPUSH', index, final_entry(seq, r)) > cap then
    q.trims[index] = cap
  end
  if r.chosen ~= '' then redis.call('PEXPIRE', q.base .. 'id:' .. r.chosen, ttl_of(q)) end
  closed(q, seq)
  announce(q, seq, r, s)
end

-- An error as a record holds it: MessagePack [type, message, nil].
local function error_bytes(kind, message)
  return '\147' .. cmsgpack.pack(kind) .. cmsgpack.pack(message) .. '\192'
end

-- A pending task whose record cannot be read ends Failed, kept in the failed index, losing
-- nothing that can be read: a record cut short becomes the body of a Failed record that says so
-- (requeue runs it as it is); a record in a side key of another Redis type gets a short Failed
-- record in its bucket (inline, so that side key, someone else's, is left as it is); in a bucket
-- of another type nothing can be written, and the task is only moved to the failed index.
-- The caller checked the failed index and open.
local function unreadable(q, seq, prio)
  local ok, s, side = pcall(load_raw, q, seq)
  local r = { state = FAILED, prio = prio, attempt = 0, fence = 0, updated = NOW, name = '', worker = '',
    chosen = '', body = '', side = false }
  if ok and s then
    r.side = side
    r.body = s
    r.err = error_bytes('TypedTasks.UnreadableRecord', 'The stored record (' .. #s .. ' bytes) is not a task store record; it is kept as this task\'s envelope.')
    finish(q, seq, r)
  elseif redis.call('TYPE', bucket_of(q, seq)).ok == 'hash' then
    r.err = error_bytes('UnreadableRecord', 'side key: wrong type')
    finish(q, seq, r)
  else
    redis.call('LPUSH', q.base .. 'failed', final_entry(seq, r))
    closed(q, seq)
  end
end

-- Removes the members of a sorted set, many per command.
local function zrem_all(key, members)
  for first = 1, #members, 1000 do
    redis.call('ZREM', key, unpack(members, first, math.min(first + 999, #members)))
  end
end

-- Pushes a pending task: at the head of its run order (runs next) or at the tail.
local function push_pending(q, seq, prio, head)
  if staging then
    local key = (head and 'R' or 'L') .. q.base .. 'pending:' .. prio
    local push = lists[key]
    if not push then push = { q = q, list = q.base .. 'pending:' .. prio, head = head, entries = {} }; lists[key] = push end
    push.entries[#push.entries + 1] = seq
    return
  end
  local n
  if head then
    n = redis.call('RPUSH', q.base .. 'pending:' .. prio, seq)
  else
    n = redis.call('LPUSH', q.base .. 'pending:' .. prio, seq)
  end
  if n == 1 then q.wake = true end
end

-- Removes a task from the index of its (non-running) state; r is its record as stored.
local function unindex(q, seq, r)
  if r.state == PENDING then
    redis.call('LREM', q.base .. 'pending:' .. r.prio, 1, seq)
  elseif WAIT_INDEX[r.state] then
    redis.call('ZREM', q.base .. WAIT_INDEX[r.state], seq)
  elseif FINAL_INDEX[r.state] then
    redis.call('LREM', q.base .. FINAL_INDEX[r.state], 1, final_entry(seq, r))
  end
end

-- The sequence of a task id's part before '@' in queue q: <epoch>-<seq> with the queue's epoch,
-- else a chosen id's. Returns seq, or nil and whether the task is known lost (the id has an epoch
-- and names no chosen id, and the queue has another epoch or none: Redis lost the data).
-- Enqueue refuses a chosen id of the <epoch>-<seq> form with the queue's epoch, so the two never mix.
-- The epoch and sequence of an id the store made (8 of 0-9a-z, '-', digits), or nil.
local function epoch_form(left)
  local e, n = string.match(left, '^([0-9a-z]+)-(%d+)$')
  if e and #e == 8 then return e, n end
  return nil
end

local function resolve(q, left)
  local e, n = epoch_form(left)
  local current = epoch(q)
  if e and current and current == e then return n, false end
  local ok, seq = pcall(redis.call, 'GET', q.base .. 'id:' .. left)
  if ok and seq then return seq, false end
  return nil, e ~= nil
end

-- Stores a new task (item: seq, prio, due or nil, chosen, name, body) Pending, or Scheduled
-- when due later, with its chosen id and index entry. Its bucket's open count is the caller's.
local function create(q, item)
  local r = { state = PENDING, prio = item.prio, attempt = 0, fence = 0, updated = NOW, name = item.name,
    worker = '', chosen = item.chosen, err = '', body = item.body, side = false }
  if item.due and item.due > NOW then r.state = SCHEDULED end
  save(q, item.seq, r)
  if item.chosen ~= '' then redis.call('SET', q.base .. 'id:' .. item.chosen, item.seq) end
  if r.state == SCHEDULED then
    redis.call('ZADD', q.base .. 'sched', item.due, item.seq)
    if not q.due or item.due < q.due then q.due = item.due end
  else
    push_pending(q, item.seq, item.prio, false)
  end
  return r
end

-- Removes a task's record, side key and chosen id (its index entry is the caller's).
local function forget(q, seq, r)
  if not is_final(r.state) then closed(q, seq) end
  if r.chosen ~= '' then redis.call('DEL', q.base .. 'id:' .. r.chosen) end
  if r.side then redis.call('DEL', side_of(q, seq)) end
  redis.call('HDEL', bucket_of(q, seq), seq)
end

-- Checks every index of the queues named by ARGV[from], ARGV[from + step], ... (queue indexes).
local function check_indexes(from, step)
  for at = from, #ARGV, step do
    local q = queue(tonumber(ARGV[at]))
    check_final(q)
    check(q, 'sched', 'retrying')
    check_pending(q)
  end
end

-- Publishes what the call changed: a wake per queue that became non-empty (its name), the
-- earliest due time of the tasks a call scheduled per queue ('<name>@<unix ms>', on the same
-- channel: '@' is in no queue name, so a fetcher never takes it for a wake), the final frames,
-- the cancellations.
-- The final indexes a call pushed past their cap are trimmed once, here, at the end of the call
-- (after every command that can fail), not once per task.
local function flush()
  write_staged()
  for _, q in pairs(queues) do
    for index, cap in pairs(q.trims) do redis.call('LTRIM', index, 0, cap - 1) end
  end
  for _, q in pairs(queues) do
    if q.wake then redis.call('PUBLISH', WAKE, q.name) end
    if q.due then redis.call('PUBLISH', WAKE, q.name .. '@' .. string.format('%.0f', q.due)) end
  end
  if #frames > 0 then redis.call('PUBLISH', DONE, table.concat(frames)) end
  for i = 1, #cancels do redis.call('PUBLISH', CANCEL, cancels[i]) end
end


-- Starts a call: the keys and arguments of this call, and nothing left from the one before.
local function begin(keys, args)
  KEYS, ARGV = keys, args
  NOW, TTL = tonumber(ARGV[1]), tonumber(ARGV[2])
  FAILED_CAP, FINAL_CAP = tonumber(ARGV[3]), tonumber(ARGV[4])
  WAKE, DONE, CANCEL = ARGV[5], ARGV[6], ARGV[7]
  queues, staging, staged, pushes, closes, lists, unsided, frames, cancels = {}, false, {}, {}, {}, {}, {}, {}, {}
end
