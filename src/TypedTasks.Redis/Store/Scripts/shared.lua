-- Shared by every task store script, so the record format, the key names, "is final" and the
-- checks live in one place. StoreLibrary makes one Redis function library of this text and every
-- script (each script's text becomes the body of a function that first calls begin below): this
-- text runs once when the library is loaded, not on every call. On a server without functions
-- each script is sent as this text, a call of begin with its KEYS and ARGV, and its own text.
-- That text is one Lua chunk, whose main function Lua allows at most 200 active locals, a name
-- in an existing local statement counted as one: this file's top level with a script's own is
-- near it (StoreLibraryTests checks room for three more). New state goes into the per-call or
-- per-queue tables, and a script's temporaries into do ... end blocks.
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
-- (1-byte length; empty while the envelope, which names the task, is kept: a Succeeded record has
-- one, and so has a record whose body holds no envelope to put a name back into, '?': see the
-- task names part below), the worker (1-byte length), the chosen id (2-byte length), the error
-- (4-byte length), and the rest: the envelope as stored (a long name as its number), or the
-- result once Succeeded. A record is a field of its
-- bucket hash P:{q}:t:<seq >> 7>, or the string P:{q}:x:<seq> when the bucket field holds 'x' (a
-- record over 64 bytes of a final task, or in a bucket that is not wide: see save). Every version
-- reads both.
-- A task with rate or concurrency limits has 128 added to its priority byte, and its rest starts
-- with its limits (2-byte length, then cmsgpack { { key, count, window ms or 0 }, ... }): see the
-- limits part below. r.prio is the priority, r.limits those bytes ('' for a task with none).
-- The state of one call, set by begin (a library's locals outlive the call: begin resets them all).
local KEYS, ARGV, NOW, TTL, FAILED_CAP, FINAL_CAP, WAKE, DONE, CANCEL
local A = 8
local queues, staging, staged, pushes, closes, lists, unsided, frames, cancels, strings

-- The library functions the scripts call per task, as locals set by begin (the libraries are not
-- there while a function library loads): in a Redis function a global such as string.sub is
-- looked up through the protected globals table, then in the library's table, about 300
-- instructions a call before the call itself (callgrind). Scripts outside the hot path may use
-- the globals as they are.
local rcall, ssub, sbyte, schar, sformat, smatch, sfind, spack, sunpack, mmin, mmax, mfloor, tconcat, mpack, munpack

local PENDING, SCHEDULED, STARTED, RETRYING = 0, 1, 2, 3
local SUCCEEDED, FAILED, CANCELED, EXPIRED = 4, 5, 6, 7
local SIDE = 'x'
local INLINE_MAX = 64 -- a hash stays a listpack while no value is longer than hash-max-listpack-value (64)
-- A member of every leases sorted set that is no lease: longer than zset-max-listpack-value (64),
-- so Redis keeps the set a skiplist and never converts it back (a listpack of up to 128 leases
-- is walked entry by entry, comparing scores as text, by every ZADD, ZREM and ZSCORE). Its score
-- is +inf: no recovery range, count or page of leases (all below +inf) reaches it. It is 80
-- zeros: a store of version 0.2.0 pages Started tasks by rank and takes every member for a task
-- number (tonumber, then its bucket); a member that is no number fails that page with a Lua
-- error, while this one reads as number 0, whose bucket has no such field: no record, left out.
-- No sequence has a leading zero, so no task is named by it.
local KEEP_SKIPLIST = '00000000000000000000000000000000000000000000000000000000000000000000000000000000'
local FINAL_INDEX = { [4] = 'succeeded', [5] = 'failed', [6] = 'canceled', [7] = 'expired' }
local WAIT_INDEX = { [1] = 'sched', [3] = 'retrying' }
local KIND = { seq = 'hash', open = 'hash', sched = 'zset', retrying = 'zset', leases = 'zset',
  succeeded = 'list', failed = 'list', canceled = 'list', expired = 'list' }
for p = 0, 9 do KIND['pending:' .. p] = 'list' end
local PENDING_OF = {}
for p = 0, 9 do PENDING_OF[p] = 'pending:' .. p end
-- The name of a pending list after the queue's base, made once (see bucket_no on numbers).
local function pending_of(prio) return PENDING_OF[prio] or 'pending:' .. prio end

local function is_final(state) return state >= SUCCEEDED end

-- What is wrong with a key that holds another Redis type than the store writes there, or nil.
local function problem(key, kind)
  local t = rcall('TYPE', key).ok
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
    q = { seq = key, base = ssub(key, 1, -4), name = smatch(key, '{(.*)}:seq$'), wake = false, checked = {}, trims = {}, unleased = {} }
    queues[i] = q
  end
  return q
end

-- The result TTL of a queue (see the head of this file), read once per call.
local function ttl_of(q)
  if q.ttl == nil then
    q.ttl = TTL
    if rcall('TYPE', q.seq).ok == 'hash' then
      local given = tonumber(rcall('HGET', q.seq, 'ttl') or '')
      if given and given > 0 then q.ttl = given end
    end
  end
  return q.ttl
end

-- ttl_of as text, for PEXPIRE and SET PX.
local function ttl_text(q)
  if not q.ttl_text then q.ttl_text = sformat('%d', ttl_of(q)) end
  return q.ttl_text
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
-- Recursive, so that no table of the names is made per call.
local function problem_of(q, suffix, ...)
  if not suffix then return nil end
  local p = problem_at(q, suffix)
  if p then return p end
  return problem_of(q, ...)
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
  if q.epoch == nil then q.epoch = rcall('HGET', q.seq, 'epoch') or false end
  return q.epoch
end

-- The epoch of a queue whose seq key is about to be made: the first 8 hex digits of the SHA1 of
-- the client's candidate and the server's time, so that a queue made again after Redis lost it,
-- even by the same client, does not get back the epoch its lost tasks' ids carry.
local function fresh_epoch(q, candidate)
  if not q.fresh then
    local t = rcall('TIME')
    q.fresh = ssub(redis.sha1hex(candidate .. ':' .. t[1] .. ':' .. t[2]), 1, 8)
  end
  return q.fresh
end

-- Numbers that go into key names and command arguments are made text with '%d': Lua's own
-- number to text (concatenation, and redis.call's arguments) formats them as floating point,
-- several times slower, and the scripts do it per task.
-- The bucket number of a sequence as text, made once per sequence: a task's call asks for it
-- several times (its bucket key, its open count, its checks), and each time would cost a text to
-- number conversion (strtod, twice in tonumber: about 1,500 instructions) and a number to text one
-- (about 2,200). A function library keeps the table from call to call (an enqueue fills it for the
-- tasks it makes, so the fetch and the settle of a task find its bucket there); it is dropped
-- whole once it holds 8,192 sequences, so that it stays small. (The bounds of these tables are
-- literals, not named locals: a script sent by EVAL runs this text in its main chunk, which holds
-- at most 200 locals.)
local bucket_nos, bucket_nos_n = nil, 0
local function bucket_no_put(seq, b)
  bucket_nos[seq] = b
  bucket_nos_n = bucket_nos_n + 1
end
local function bucket_no(seq)
  local b = bucket_nos[seq]
  if not b then
    b = sformat('%d', mfloor(tonumber(seq) / 128))
    bucket_no_put(seq, b)
  end
  return b
end
-- The bucket key of a task, made once per call (a text to number conversion costs a strtod);
-- nil for an entry that is no number (written by hand into an index): it names no record.
local function bucket_of(q, seq)
  local bk = q.bk
  if not bk then bk = {}; q.bk = bk end
  local b = bk[seq]
  if not b then
    -- A sequence known there is a number: no tonumber.
    local no = bucket_nos[seq]
    if not no then
      local n = tonumber(seq)
      if not n then return nil end
      no = sformat('%d', mfloor(n / 128))
      bucket_no_put(seq, no)
    end
    -- The key's name is made once per bucket (128 sequences), not per sequence.
    local names = q.bkn
    if not names then names = {}; q.bkn = names end
    b = names[no]
    if not b then b = q.base .. 't:' .. no; names[no] = b end
    bk[seq] = b
  end
  return b
end
local function side_of(q, seq) return q.base .. 'x:' .. seq end

-- The fields are read and written without a C call where none is needed (lengths by sbyte, no
-- ssub for an empty field, the zero lengths as constants): in a Redis function each C call and
-- each new string costs hundreds of instructions, and a record is read and written per task.
local ZERO_2, ZERO_4 = '\0\0', '\0\0\0\0'
-- Lengths packed as 2 and 4 bytes (ids, chosen ids, records in the done frames), made once per
-- length below 4,096: a struct.pack per task and length would cost a C call and a new string.
local PACKED_2, PACKED_4
local function packed(cache, format, n)
  local v = cache[n]
  if not v then
    v = spack(format, n)
    if n < 4096 then cache[n] = v end
  end
  return v
end
local function pack2(n) return packed(PACKED_2, '>H', n) end
local function pack4(n) return packed(PACKED_4, '>I4', n) end
-- Both tables are filled as they are used, not all at once: a function library keeps them
-- from call to call, but a script sent by EVAL (no functions on the server) starts empty on
-- every call, and 256 entries made up front would cost it more than it saves.
local BYTE_CHAR -- byte value -> one-character string
-- Numbers by their text: priorities, queue indexes, counts and most fences come as short text,
-- and tonumber costs two strtod calls. Only texts of up to 3 characters are kept, so the table
-- stays small however many calls it serves.
local SMALL
local function num(s)
  local n = SMALL[s]
  if n then return n end
  n = tonumber(s)
  if n and #s <= 3 then SMALL[s] = n end
  return n
end

local function rec_read(s)
  -- Made whole at once: a table filled field by field is resized four times on the way.
  local state, prio, attempt, fence, updated = sunpack('>BBHI4I6', s)
  local limited = prio >= 128
  if limited then prio = prio - 128 end
  local n = sbyte(s, 15)
  local pos = 16
  local name, worker, chosen, err, limits = '', '', '', '', ''
  if n > 0 then name = ssub(s, pos, pos + n - 1); pos = pos + n end
  n = sbyte(s, pos); pos = pos + 1
  if n > 0 then worker = ssub(s, pos, pos + n - 1); pos = pos + n end
  local b1, b2, b3, b4 = sbyte(s, pos, pos + 1)
  n = b1 * 256 + b2; pos = pos + 2
  if n > 0 then chosen = ssub(s, pos, pos + n - 1); pos = pos + n end
  b1, b2, b3, b4 = sbyte(s, pos, pos + 3)
  n = ((b1 * 256 + b2) * 256 + b3) * 256 + b4; pos = pos + 4
  if n > 0 then err = ssub(s, pos, pos + n - 1); pos = pos + n end
  if limited then
    b1, b2 = sbyte(s, pos, pos + 1)
    n = b1 * 256 + b2; pos = pos + 2
    limits = ssub(s, pos, pos + n - 1); pos = pos + n
  end
  return { state = state, prio = prio, attempt = attempt, fence = fence, updated = updated, name = name, worker = worker,
    chosen = chosen, err = err, limits = limits, body = ssub(s, pos), side = false }
end

local function rec_write(r)
  local limits = r.limits or ''
  local head = ''
  local prio = r.prio
  if limits ~= '' then
    head = spack('>H', #limits) .. limits
    prio = prio + 128
  end
  local attempt = r.attempt
  if attempt > 65535 then attempt = 65535 end
  local chosen, err, name, worker = r.chosen, r.err, r.name, r.worker
  local nl, wl = BYTE_CHAR[#name], BYTE_CHAR[#worker]
  if not nl then nl = schar(#name); BYTE_CHAR[#name] = nl end
  if not wl then wl = schar(#worker); BYTE_CHAR[#worker] = wl end
  return spack('>BBHI4I6', r.state, prio, attempt, r.fence, r.updated)
    .. nl .. name .. wl .. worker
    .. (chosen == '' and ZERO_2 or pack2(#chosen)) .. chosen
    .. (err == '' and ZERO_4 or spack('>I4', #err)) .. err .. head .. r.body
end

-- ---- Task names kept once per queue ----
-- A task name of at least names.MIN bytes (a default `Namespace.Type.Method` name) is kept once
-- in the queue's name table, P:{q}:names (field '=' .. name -> its number, field number -> the
-- name; the last number given is the field 'names' of P:{q}:seq), and a record's version 2
-- envelope holds the name's number in its place: a MessagePack positive integer, where a name is
-- a string. So a small task's record stays within the 64 bytes that keep its bucket a listpack,
-- whatever its name. A record read (rec_read, load) keeps its body as stored; a start frame and
-- every record a script answers or announces carry the envelope whole again (names.full,
-- names.outward), so no client sees a number. Only a record whose name field is empty holds a
-- stored envelope: a body sent with a number where the name goes (no envelope this library
-- writes) is kept with the name '?', so that it is given back as it came. A short name stays in
-- place: coding it would give the scripts a lookup and a copy per task for a few bytes. A name
-- the table cannot take (MAX numbers given, or a key of another type) also stays in place: the
-- table never fails a call. A number is given once and never again, even when the table is
-- deleted by hand (its counter is in the seq key), so a number whose name is gone stays unknown.
local names = { MIN = 17, MAX = 4096 }

-- The number of name in q's table, given now if it has none; false when it can have none.
function names.number(q, name)
  local t = q.names
  if not t then t = {}; q.names = t end
  local n = t[name]
  if n ~= nil then return n end
  n = false
  local key = q.base .. 'names'
  local ok, v = pcall(rcall, 'HGET', key, '=' .. name)
  if ok and v then
    n = tonumber(v) or false
  elseif ok then
    local last
    ok, last = pcall(rcall, 'HGET', q.seq, 'names')
    last = ok and tonumber(last or '0')
    if last and last < names.MAX and pcall(rcall, 'HSET', q.seq, 'names', last + 1)
        and pcall(rcall, 'HSET', key, '=' .. name, last + 1, last + 1, name) then
      n = last + 1
    end
  end
  t[name] = n
  if n then t[n] = name end
  return n
end

-- The name numbered n in q's table, or nil.
function names.name(q, n)
  local t = q.names
  if not t then t = {}; q.names = t end
  local name = t[n]
  if name ~= nil then return name or nil end
  local ok, v = pcall(rcall, 'HGET', q.base .. 'names', n)
  name = ok and v or false
  t[n] = name
  if name then t[name] = n end
  return name or nil
end

-- The name of the version 2 envelope at byte o of s (1: s is the envelope): where it starts and
-- its length or, for a number, -1 and the number; nil for anything else.
function names.at(s, o)
  local a, v, b = sbyte(s, o, o + 2)
  if a ~= 0x97 or v ~= 2 or not b then return nil end
  if b >= 0xa0 and b <= 0xbf then return o + 3, b - 0xa0 end
  if b == 0xd9 then
    local l = sbyte(s, o + 3)
    if l then return o + 4, l end
    return nil
  end
  if b < 0x80 then return o + 3, -1, b end
  if b == 0xcc then
    local n = sbyte(s, o + 3)
    if n then return o + 4, -1, n end
    return nil
  end
  if b == 0xcd then
    local h, l = sbyte(s, o + 3, o + 4)
    if l then return o + 5, -1, h * 256 + l end
  end
  return nil
end

-- An envelope as a record stores it: its name replaced by its number when long (a name written
-- in its shortest string header, as names.full writes it back). Second, the name the record
-- keeps: '?' for a body with a number where the name goes, else nil.
function names.stored(q, body)
  local from, len = names.at(body, 1)
  if not from then return body end
  if len < 0 then return body, '?' end
  if len < names.MIN or (len < 32) ~= (from == 4) then return body end
  local n = names.number(q, ssub(body, from, from + len - 1))
  if not n then return body end
  local code = n < 0x80 and schar(n) or n < 0x100 and '\204' .. schar(n) or '\205' .. spack('>H', n)
  return '\151\002' .. code .. ssub(body, from + len)
end

-- s with the stored envelope at byte o whole again (its number replaced by its name), or s as
-- it is.
function names.full(q, s, o)
  local from, len, n = names.at(s, o)
  if not from or len >= 0 then return s end
  local name = names.name(q, n)
  if not name then return s end
  local head = #name < 32 and schar(0xa0 + #name) or '\217' .. schar(#name)
  return ssub(s, 1, o - 1) .. '\151\002' .. head .. name .. ssub(s, from)
end

-- The task name of an envelope, stored or whole, or '?'.
function names.of(q, body)
  local from, len, n = names.at(body, 1)
  if not from then return '?' end
  if len >= 0 then return ssub(body, from, from + len - 1) end
  return names.name(q, n) or '?'
end

-- A stored record s as a reader gets it: its envelope whole. (A record with a name holds a
-- result or a body as it came, no stored envelope.)
function names.outward(q, s)
  if sbyte(s, 15) ~= 0 then return s end
  local ok, r = pcall(rec_read, s)
  if not ok then return s end
  return names.full(q, s, #s - #r.body + 1)
end

-- Batching (fetch, complete, enqueue): a script that sets staging writes the inline records of a
-- call with one HSET per bucket, and the side keys of records not final and the chosen ids of
-- new tasks (strings, key -> value) with one MSET (write_staged, which it calls before it removes anything), and reads the records of a call
-- with one HMGET per bucket and one MGET of their side keys (prefetch). Either is seen by load.

-- Reads the records of the sequences seqs of q, one HMGET per bucket, then one MGET of the side
-- keys they point to; a bucket that cannot be read (another Redis type) is left to load, which
-- raises for each of its tasks, and so is a side key MGET gives nothing for (missing, or of
-- another type: MGET cannot tell them apart, GET can).
local function prefetch(q, seqs)
  q.pre = q.pre or {}
  local by_bucket = {}
  for _, seq in ipairs(seqs) do
    if q.pre[seq] == nil then
      local b = bucket_of(q, seq)
      if b then
        local list = by_bucket[b]
        if not list then list = {}; by_bucket[b] = list end
        list[#list + 1] = seq
      else
        q.pre[seq] = false
      end
    end
  end
  q.spre = q.spre or {}
  local sides = {}
  for b, list in pairs(by_bucket) do
    local ok, values = pcall(rcall, 'HMGET', b, unpack(list))
    if ok then
      for i, seq in ipairs(list) do
        q.pre[seq] = values[i] or false
        if values[i] == SIDE and q.spre[seq] == nil then sides[#sides + 1] = seq end
      end
    end
  end
  for first = 1, #sides, 1000 do
    local last = mmin(first + 999, #sides)
    local keys = {}
    for k = first, last do keys[#keys + 1] = side_of(q, sides[k]) end
    local values = rcall('MGET', unpack(keys))
    for k = first, last do
      if values[k - first + 1] then q.spre[sides[k]] = values[k - first + 1] end
    end
  end
end

-- k tasks of bucket n became final (or were deleted): the bucket expires once none is open.
-- A wide bucket (save) whose records all fit 64 bytes again (a task that succeeded keeps its
-- result, not its envelope) is first written again as a listpack, which takes about half the
-- memory of its hashtable for as long as the results are kept: into P:{q}:narrowing, then renamed
-- over the bucket, so that no record is ever only in the script (that key is this script's own,
-- emptied first). A bucket is looked at (OBJECT ENCODING) only by a call that read or wrote a
-- record over 64 bytes held in a bucket of that queue (q.long): a wide bucket closed by a call
-- that saw none of its long records keeps its hashtable until it expires (memory only). A key
-- that is not a hash (written by hand, which an unreadable task's end leaves as it is; a set may
-- be encoded as a hashtable too) is passed over.
local function close_n(q, n, k)
  if rcall('HINCRBY', q.base .. 'open', n, sformat('%d', -k)) <= 0 then
    rcall('HDEL', q.base .. 'open', n)
    local b = q.base .. 't:' .. n
    local ok, all = false, nil
    if q.long then
      local encoding
      ok, encoding = pcall(rcall, 'OBJECT', 'ENCODING', b)
      if ok and encoding == 'hashtable' then ok, all = pcall(rcall, 'HGETALL', b) else ok = false end
    end
    if ok then
      local short = #all > 0
      for i = 2, #all, 2 do
        if #all[i] > INLINE_MAX then short = false; break end
      end
      if short then
        local tmp = q.base .. 'narrowing'
        rcall('DEL', tmp)
        rcall('HSET', tmp, unpack(all))
        rcall('RENAME', tmp, b)
        if q.wide then q.wide[b] = false end
      end
    end
    rcall('PEXPIRE', b, ttl_text(q))
  end
end

-- Writes what is staged: the records, one HSET per bucket; then the side keys of records now
-- inline, one DEL; the final index entries, one LPUSH per index (in the order they were made);
-- the pending entries, one push per list; the closed tasks, one HINCRBY per bucket.
local function write_staged()
  for b, args in pairs(staged) do rcall('HSET', b, unpack(args)) end
  staged = {}
  local sets = {}
  for key, value in pairs(strings) do
    sets[#sets + 1] = key
    sets[#sets + 1] = value
  end
  for first = 1, #sets, 1000 do rcall('MSET', unpack(sets, first, mmin(first + 999, #sets))) end
  strings = {}
  local dels = {}
  for key in pairs(unsided) do dels[#dels + 1] = key end
  for first = 1, #dels, 1000 do rcall('DEL', unpack(dels, first, mmin(first + 999, #dels))) end
  unsided = {}
  for index, push in pairs(pushes) do
    local length = 0
    for first = 1, #push.entries, 1000 do
      length = rcall('LPUSH', index, unpack(push.entries, first, mmin(first + 999, #push.entries)))
    end
    if length > push.cap then push.q.trims[index] = push.cap end
  end
  pushes = {}
  -- The pending entries, one LPUSH (or RPUSH, to the head of the run order) per list; a list
  -- that held nothing before wakes its fetchers (a fetcher whose last look emptied its queues
  -- waits for that; one that saw a list non-empty looks again anyway). Waking on every push
  -- would cost the busy path a message per call.
  for _, push in pairs(lists) do
    local n, k = 0, #push.entries
    for first = 1, k, 1000 do
      n = rcall(push.head and 'RPUSH' or 'LPUSH', push.list, unpack(push.entries, first, mmin(first + 999, k)))
    end
    if n == k then push.q.wake = true end
    push.q.pushing = nil
  end
  lists = {}
  for _, byq in pairs(closes) do
    for _, c in pairs(byq) do close_n(c.q, c.n, c.k) end
  end
  closes = {}
end

-- The stored bytes of a task (nil when none). Raises on a bucket or side key of another type.
local function load_raw(q, seq)
  local s = q.pre and q.pre[seq]
  if s == nil then
    local b = bucket_of(q, seq)
    s = b and rcall('HGET', b, seq)
  end
  if s == false then s = nil end
  if s == SIDE then
    local v = q.spre and q.spre[seq]
    if v then return v, true end
    return rcall('GET', side_of(q, seq)), true
  end
  return s, false
end

-- The record of a task, or nil.
local function load(q, seq)
  local s, side = load_raw(q, seq)
  if not s then return nil end
  local r = rec_read(s)
  r.side = side
  -- Held in its bucket at over 64 bytes: the bucket is wide (and close_n looks at the buckets it
  -- closes in this queue).
  if not side and #s > INLINE_MAX then
    r.wide = true
    q.long = true
  end
  return r
end

-- load in a batch: a task whose own keys hold another type is skipped (-1), not the whole batch.
local function try_load(q, seq)
  local ok, r = pcall(load, q, seq)
  if not ok then return nil, true end
  return r, false
end

-- Sets a field of a bucket: staged while staging (written by write_staged), else now.
local function bucket_set(q, seq, value)
  local b = bucket_of(q, seq)
  if q.pre then q.pre[seq] = nil end
  if not staging then return rcall('HSET', b, seq, value) end
  local args = staged[b]
  if not args then args = {}; staged[b] = args end
  args[#args + 1] = seq
  args[#args + 1] = value
  q.pre = q.pre or {}
  q.pre[seq] = value
end

-- Writes a record: in its bucket when short, or long, not final and its bucket wide (below); else
-- in its side key (with the TTL when final).
-- Wide buckets. A bucket hash stays a listpack (about 50 bytes per short record) while no value in
-- it is longer than hash-max-listpack-value (64); one longer value makes it a hashtable for good
-- (about 100 bytes per short record; reads and writes no longer walk up to 128 entries). A record
-- over 64 bytes of a task not final goes into its bucket when the bucket is a hashtable already
-- (r.wide: read from there at over 64 bytes; else OBJECT ENCODING, once per bucket and call, kept
-- in q.wide), or when the call writing it puts at least 64 such records there (enqueue.lua: a
-- chord's members, tasks with long envelopes sent together; it sets q.wide): a side key for each
-- would cost more memory than the hashtable, and three more commands per task. A long record among
-- short ones (one large task) goes to its side key, so that a bucket of short records stays a
-- listpack; and so does a long final record (a long result or error), which must go after the
-- result TTL while its bucket, with tasks still open, has none. close_n writes a wide bucket again
-- as a listpack once all its tasks are final.
local function save(q, seq, r)
  local s = rec_write(r)
  local long = #s > INLINE_MAX
  local inline = not long
  if long and not is_final(r.state) then
    if r.wide then
      inline = true
    else
      local b = bucket_of(q, seq)
      local wide = q.wide
      if not wide then wide = {}; q.wide = wide end
      inline = wide[b]
      if inline == nil then
        local ok, encoding = pcall(rcall, 'OBJECT', 'ENCODING', b)
        inline = ok and encoding == 'hashtable'
        wide[b] = inline
      end
    end
  end
  if inline then
    -- (Set only when true: a field added to most records' tables would cost a resize each.)
    if long then
      r.wide = true
      q.long = true
    end
    bucket_set(q, seq, s)
    -- While staging, the side key goes once the bucket field that replaces it is written. (Its
    -- name is made only here and below: most records are inline.)
    if r.side then
      local side = side_of(q, seq)
      if staging then unsided[side] = true; strings[side] = nil else rcall('DEL', side) end
    end
    if q.spre then q.spre[seq] = nil end
    r.side = false
  else
    local side = side_of(q, seq)
    unsided[side] = nil
    if is_final(r.state) then
      strings[side] = nil
      rcall('SET', side, s, 'PX', ttl_text(q))
    elseif staging then
      -- Not final, so without a TTL: one MSET per call (write_staged).
      strings[side] = s
    else
      rcall('SET', side, s)
    end
    q.spre = q.spre or {}
    q.spre[seq] = s
    if not r.side then bucket_set(q, seq, SIDE) end
    r.side = true
  end
  return s
end

-- n tasks of the bucket of seq are not final any more, or again (new, requeued): the bucket must
-- not expire.
local function opened_n(q, seq, n)
  local b = bucket_no(seq)
  if rcall('HINCRBY', q.base .. 'open', b, n) == n then
    rcall('PERSIST', q.base .. 't:' .. b)
  end
end

local function opened(q, seq, r)
  opened_n(q, seq, 1)
  if r.chosen ~= '' then rcall('PERSIST', q.base .. 'id:' .. r.chosen) end
end

-- A task of the bucket became final (or was deleted): the bucket expires once none is open.
local function closed(q, seq)
  local n = bucket_no(seq)
  if not staging then return close_n(q, n, 1) end
  local byq = closes[q]
  if not byq then byq = {}; closes[q] = byq end
  local c = byq[n]
  if c then c.k = c.k + 1 else byq[n] = { q = q, n = n, k = 1 } end
end

local function id_of(q, seq, r)
  if r.chosen ~= '' then return r.chosen .. '@' .. q.name end
  return epoch(q) .. '-' .. seq .. '@' .. q.name
end

-- Starts task seq of q (record r, not final) for worker until deadline (unix ms, as text): Started,
-- attempt + 1, fence + 1, the worker; the lease is added by add_leases. Both a fetch and an
-- enqueue that hands a task to an idle worker (enqueue.lua) start a task this way.
local function start_task(q, seq, r, worker, deadline)
  r.state = STARTED
  r.attempt = r.attempt + 1
  r.fence = r.fence + 1
  r.worker = worker
  r.updated = NOW
  save(q, seq, r)
  local leases = q.leased or {}
  q.leased = leases
  leases[#leases + 1] = deadline
  leases[#leases + 1] = seq
end

-- Adds the leases start_task made: one ZADD per queue with every lease of the call, and the
-- member that keeps the set a skiplist (KEEP_SKIPLIST; added again when it is there: a lookup in
-- the set's dict). The caller checked each queue's leases key.
local function add_leases()
  for _, q in pairs(queues) do
    local leases = q.leased
    if leases then
      q.leased = nil
      rcall('ZADD', q.base .. 'leases', '+inf', KEEP_SKIPLIST, unpack(leases, 1, mmin(1000, #leases)))
      for first = 1001, #leases, 1000 do
        rcall('ZADD', q.base .. 'leases', unpack(leases, first, mmin(first + 999, #leases)))
      end
    end
  end
end

-- Tells waiters: one frame per final record (id length, id, record length, record).
local function announce(q, seq, r, s)
  local id = id_of(q, seq, r)
  if r.name == '' then s = names.full(q, s, #s - #r.body + 1) end
  -- Its four parts as they are: the message is made once, by one table.concat (flush).
  local n = #frames
  frames[n + 1] = pack2(#id)
  frames[n + 2] = id
  frames[n + 3] = pack4(#s)
  frames[n + 4] = s
end

-- Tells waiters a task is no longer where its last frame left it (sent back to run, or gone): a
-- frame with an empty record. A store that kept that frame forgets it, so a wait reads again.
local function withdraw(q, seq, r)
  local id = id_of(q, seq, r)
  local n = #frames
  frames[n + 1] = pack2(#id)
  frames[n + 2] = id
  frames[n + 3] = '\0\0\0\0'
end

-- A final index entry: the sequence and when the task became final (its record's updated time),
-- so that entries older than the result TTL can be dropped from the tail.
local ended_at, ended_text
local function final_entry(seq, r)
  -- Most records of a call end at NOW: its text is made once.
  if r.updated ~= ended_at then ended_at, ended_text = r.updated, sformat('%.0f', r.updated) end
  return seq .. ':' .. ended_text
end

-- Drops the entries of a final index whose task ended more than the TTL ago (oldest at the tail;
-- bounded per call): its record may be gone, and a count must not include it.
local function trim_final(q, key)
  for _ = 1, 200 do
    local last = rcall('LINDEX', key, -1)
    if not last then return end
    local ended = tonumber(smatch(last, ':(%d+)$') or '')
    if ended and ended + ttl_of(q) > NOW then return end
    rcall('RPOP', key)
  end
end

-- A final record's delivery to its workflow join (defined with the workflows, below).
local on_final

-- Stores a record that just became final and puts it in its capped index (written before any
-- caller removes the task from where it was); a workflow member's outcome goes to its join.
local function finish(q, seq, r)
  local s = save(q, seq, r)
  local index = q.base .. FINAL_INDEX[r.state]
  local cap = r.state == FAILED and FAILED_CAP or FINAL_CAP
  if staging then
    local push = pushes[index]
    if not push then push = { q = q, cap = cap, entries = {} }; pushes[index] = push end
    push.entries[#push.entries + 1] = final_entry(seq, r)
  elseif rcall('LPUSH', index, final_entry(seq, r)) > cap then
    q.trims[index] = cap
  end
  if r.chosen ~= '' then rcall('PEXPIRE', q.base .. 'id:' .. r.chosen, ttl_text(q)) end
  closed(q, seq)
  announce(q, seq, r, s)
  if r.chosen ~= '' then on_final(q, seq, r) end
end

-- An error as a record holds it: MessagePack [type, message, nil].
local function error_bytes(kind, message)
  return '\147' .. mpack(kind) .. mpack(message) .. '\192'
end

-- A pending task whose record cannot be read ends Failed, kept in the failed index, losing
-- nothing that can be read: a record cut short becomes the body of a Failed record that says so
-- (requeue runs it as it is); a record in a side key of another Redis type gets a short Failed
-- record in its bucket (inline, so that side key, someone else's, is left as it is); in a bucket
-- of another type nothing can be written, and the task is only moved to the failed index.
-- The caller checked the failed index and open.
local function unreadable(q, seq, prio)
  local ok, s, side = pcall(load_raw, q, seq)
  -- (Named '?': its body is no stored envelope whose name a reader would put back.)
  local r = { state = FAILED, prio = prio, attempt = 0, fence = 0, updated = NOW, name = '?', worker = '',
    chosen = '', body = '', side = false }
  if ok and s then
    r.side = side
    r.body = s
    r.err = error_bytes('TypedTasks.UnreadableRecord', 'The stored record (' .. #s .. ' bytes) is not a task store record; it is kept as this task\'s envelope.')
    finish(q, seq, r)
  elseif rcall('TYPE', bucket_of(q, seq)).ok == 'hash' then
    r.err = error_bytes('UnreadableRecord', 'side key: wrong type')
    finish(q, seq, r)
  else
    rcall('LPUSH', q.base .. 'failed', final_entry(seq, r))
    closed(q, seq)
  end
end

-- Removes the members of a sorted set, many per command.
local function zrem_all(key, members)
  for first = 1, #members, 1000 do
    rcall('ZREM', key, unpack(members, first, mmin(first + 999, #members)))
  end
end

-- Removes settled or expired leases of q; the set goes too once only the member that keeps it a
-- skiplist (KEEP_SKIPLIST) is left, so that a queue with no lease has no leases key, as the
-- idle looks (recover's EXISTS) expect. One ZCOUNT per call; the next fetch makes the set again.
local function unlease(q, members)
  local key = q.base .. 'leases'
  zrem_all(key, members)
  if rcall('ZCOUNT', key, '-inf', '(+inf') == 0 then rcall('DEL', key) end
end

-- Pushes a pending task: at the head of its run order (runs next) or at the tail.
local function push_pending(q, seq, prio, head)
  if staging then
    -- Found by queue, priority and end without making its names (per task) again: q.pushing
    -- goes with lists (write_staged).
    local slot = head and -1 - prio or prio
    local pushing = q.pushing
    if not pushing then pushing = {}; q.pushing = pushing end
    local push = pushing[slot]
    if not push then
      local list = q.base .. pending_of(prio)
      local key = (head and 'R' or 'L') .. list
      push = lists[key]
      if not push then push = { q = q, list = list, head = head, entries = {} }; lists[key] = push end
      pushing[slot] = push
    end
    push.entries[#push.entries + 1] = seq
    return
  end
  local n
  if head then
    n = rcall('RPUSH', q.base .. 'pending:' .. prio, seq)
  else
    n = rcall('LPUSH', q.base .. 'pending:' .. prio, seq)
  end
  if n == 1 then q.wake = true end
end

-- ---- Rate and concurrency limits (docs/flow-control.md) ----
-- A limit g is 'c:<key>' (at most count running at once) or 'r:<key>' (at most count starts in
-- any window of its length). Per limit:
--   P:{q}:lc:<key>  set: the sequences of its running tasks (concurrency)
--   P:{q}:lr:<key>  sorted set: its starts in the window, '<seq>:<fence>' by start time (rate),
--                   expiring with the window
--   P:{q}:lh:<g>    list: the sequences of the Pending tasks it holds back (LPUSH held, RPOP let go)
--   P:{q}:limits    hash: g -> cmsgpack { count, window ms }, the limits in use (for tools)
--   P:{q}:gates     sorted set: g -> when promote looks at it again: when a rate window frees a
--                   start, and every SAFETY_MS while a concurrency limit holds tasks back (a slot
--                   freed by a path that missed its let-go must not strand them)
--   field 'held' of P:{q}:seq: how many tasks the queue's limits hold back
-- A fetch admits a limited task when every limit of it has room (and counts it at once), else
-- holds it back: it leaves its pending list for the held list of the limit that refused it, so
-- it holds up neither a worker nor the tasks behind it. The end of a run (its lease removed:
-- complete, recover) gives its concurrency slot back and lets the oldest held tasks go to the
-- head of their pending lists; promote lets a rate limit's held tasks go when its window frees.
local SAFETY_MS = 30000

-- The limits of record r ({ key, count, per, gate } each), or nil when it has none or they
-- cannot be read. A key kept empty or starting with '|' is the rest of a key that starts with the
-- task's name (left out by the client, so that a small record stays in its bucket).
local function limits_of(q, r)
  if not r.limits or r.limits == '' then return nil end
  local ok, t = pcall(cmsgpack.unpack, r.limits)
  if not ok or type(t) ~= 'table' then return nil end
  local out = {}
  for i, l in ipairs(t) do
    if type(l) ~= 'table' or type(l[1]) ~= 'string' or type(l[2]) ~= 'number' or type(l[3]) ~= 'number' then return nil end
    local key = l[1]
    if key == '' or ssub(key, 1, 1) == '|' then
      key = (r.name ~= '' and r.name or names.of(q, r.body)) .. key
    end
    out[i] = { key = key, count = l[2], per = l[3], gate = (l[3] > 0 and 'r:' or 'c:') .. key }
  end
  return out
end

local function count_key(q, l) return q.base .. (l.per > 0 and 'lr:' or 'lc:') .. l.key end

-- The first problem among the keys an admission or hold of limits lims writes, or nil.
local function limits_problem(q, lims)
  for _, l in ipairs(lims) do
    local p = problem_at(q, (l.per > 0 and 'lr:' or 'lc:') .. l.key, l.per > 0 and 'zset' or 'set')
      or problem_at(q, 'lh:' .. l.gate, 'list')
    if p then return p end
  end
  return problem_at(q, 'limits', 'hash') or problem_at(q, 'gates', 'zset') or problem_at(q, 'seq', 'hash')
end

local function limit_index(q, l)
  q.indexed = q.indexed or {}
  if q.indexed[l.gate] then return end -- once per call
  q.indexed[l.gate] = true
  rcall('HSET', q.base .. 'limits', l.gate, mpack({ l.count, l.per }))
end

-- Promote looks at limit gate at time at at the latest (and the queue's fetchers hear of it).
local function gate_at(q, gate, at)
  rcall('ZADD', q.base .. 'gates', 'LT', at, gate) -- LT still adds a new member
  if not q.due or at < q.due then q.due = at end
end

-- True when task seq of q holds a lease (running, or canceled and not yet settled by its worker),
-- or when its queue's leases key cannot be read (a lease that cannot be seen is not given up).
local function leased(q, seq)
  local ok, score = pcall(rcall, 'ZSCORE', q.base .. 'leases', seq)
  return not ok or (score ~= false and score ~= nil)
end

-- How many tasks of concurrency limit l run. When it looks full, its members that hold no lease
-- any more (a path that missed its let-go) are dropped first, once per call. A run counts while
-- its lease lasts, also once its task was canceled: its worker may still be stopping it.
local function running(q, l)
  local key = count_key(q, l)
  local n = rcall('SCARD', key)
  q.pruned = q.pruned or {}
  if n < l.count or q.pruned[key] then return n end
  q.pruned[key] = true
  for _, seq in ipairs(rcall('SMEMBERS', key)) do
    if not leased(q, seq) and not (q.admitted and q.admitted[seq]) then rcall('SREM', key, seq) end
  end
  return rcall('SCARD', key)
end

-- How many starts rate limit l counts in its window now.
local function in_window(q, l)
  local key = count_key(q, l)
  rcall('ZREMRANGEBYSCORE', key, '-inf', NOW - l.per)
  return rcall('ZCARD', key)
end

-- nil when every limit of task seq (record r, limits lims) has room now: each then counts it.
-- Else the limit that holds it back (no limit counts it then).
local function admit(q, seq, r, lims)
  local counts = {}
  for i, l in ipairs(lims) do
    counts[i] = l.per > 0 and in_window(q, l) or running(q, l)
    if counts[i] >= l.count then return l end
  end
  for i, l in ipairs(lims) do
    local key = count_key(q, l)
    if l.per > 0 then
      rcall('ZADD', key, NOW, seq .. ':' .. (r.fence + 1))
      rcall('PEXPIRE', key, l.per)
      if counts[i] == 0 then
        limit_index(q, l)
        gate_at(q, l.gate, NOW + l.per) -- to drop it from the index once its window is empty
      end
    else
      rcall('SADD', key, seq)
      q.admitted = q.admitted or {}
      q.admitted[seq] = true
      if counts[i] == 0 then limit_index(q, l) end
    end
  end
  return nil
end

-- Holds task seq back behind limit l (its pending entry is the caller's to remove, after this).
local function hold(q, seq, l)
  rcall('LPUSH', q.base .. 'lh:' .. l.gate, seq)
  rcall('HINCRBY', q.seq, 'held', 1)
  limit_index(q, l)
  -- When to look at the limit again, once per limit and call (the first hold's time is the earliest).
  q.timed = q.timed or {}
  if q.timed[l.gate] then return end
  q.timed[l.gate] = true
  if l.per > 0 then
    local first = rcall('ZRANGE', count_key(q, l), 0, 0, 'WITHSCORES')
    gate_at(q, l.gate, (tonumber(first[2]) or NOW) + l.per)
  else
    gate_at(q, l.gate, NOW + SAFETY_MS)
  end
end

-- Lets up to n held tasks of limit gate go, oldest first, to the head of their pending lists
-- (they run next, the oldest first). A held entry whose task is not Pending any more is dropped.
-- Returns how many went; stops at a task whose pending list holds another type (it stays held,
-- visible, with the ones behind it).
local function let_go(q, gate, n)
  local list = q.base .. 'lh:' .. gate
  local page = rcall('LRANGE', list, -n, -1) -- newest .. oldest of the n oldest
  local go, records = 0, {}
  for k = #page, 1, -1 do
    local ok, r = pcall(load, q, page[k])
    if ok and r and r.state == PENDING then
      if problem_at(q, 'pending:' .. r.prio) then break end
      records[k] = r
    end
    go = go + 1
  end
  -- Pushed first (newest of them first, so the oldest ends at the head), popped after: a task is
  -- never in neither list.
  local moved = 0
  for k = #page - go + 1, #page do
    local r = records[k]
    if r then
      rcall('RPUSH', q.base .. 'pending:' .. r.prio, page[k])
      moved = moved + 1
    end
  end
  if go > 0 then
    rcall('RPOP', list, go)
    rcall('HINCRBY', q.seq, 'held', -go)
    q.wake = true
  end
  return moved
end

-- Drops limit gate from the index (and promote's timer) when nothing counts or waits for it.
local function limit_idle(q, l)
  local active = l.per > 0 and rcall('ZCARD', count_key(q, l)) or rcall('SCARD', count_key(q, l))
  if active == 0 and rcall('LLEN', q.base .. 'lh:' .. l.gate) == 0 then
    if q.indexed then q.indexed[l.gate] = nil end
    rcall('HDEL', q.base .. 'limits', l.gate)
    rcall('ZREM', q.base .. 'gates', l.gate)
    return true
  end
  return false
end

-- A run of task seq (record r) ended: its concurrency slots come back, and as many held tasks
-- as there are free slots go. Never fails: a limit key of another type is left as it is.
local function unlimit(q, seq, r)
  local lims = limits_of(q, r)
  if not lims then return end
  for _, l in ipairs(lims) do
    if l.per == 0 then
      pcall(function()
        local key = count_key(q, l)
        rcall('SREM', key, seq)
        local n = rcall('SCARD', key)
        -- One run ended: one held task goes (those let go before may still wait in their pending
        -- list; letting more go would put them behind newer ones). revisit makes up any shortfall.
        if n < l.count then let_go(q, l.gate, 1) end
        if n == 0 then limit_idle(q, l) end -- a limit with runs is in use
      end)
    end
  end
end

-- Takes a held task (record r, leaving Pending: canceled or deleted) out of its held list.
-- Returns true when it was held.
local function unhold(q, seq, r)
  local lims = limits_of(q, r)
  if not lims then return false end
  for _, l in ipairs(lims) do
    local ok, n = pcall(rcall, 'LREM', q.base .. 'lh:' .. l.gate, 1, seq)
    if ok and n > 0 then
      rcall('HINCRBY', q.seq, 'held', -1)
      pcall(limit_idle, q, l)
      return true
    end
  end
  return false
end

-- The limits of q that hold tasks back, in key order (a key's concurrency limit before its rate
-- limit): where listing and purging go on after the pending lists. O(limits in use).
local function holding(q)
  if rcall('TYPE', q.base .. 'limits').ok ~= 'hash' then return {} end
  local gates = {}
  for _, gate in ipairs(rcall('HKEYS', q.base .. 'limits')) do
    local ok, n = pcall(rcall, 'LLEN', q.base .. 'lh:' .. gate)
    if ok and n > 0 then gates[#gates + 1] = gate end
  end
  -- Byte order, as the tools' (Lua's < follows the server's locale).
  local function before(a, b)
    for i = 1, mmin(#a, #b) do
      local x, y = sbyte(a, i), sbyte(b, i)
      if x ~= y then return x < y end
    end
    return #a < #b
  end
  table.sort(gates, function(a, b)
    local ka, kb = ssub(a, 3), ssub(b, 3)
    if ka ~= kb then return before(ka, kb) end
    return before(a, b)
  end)
  return gates
end

-- Looks at limit gate of q again (promote, when its time came): lets go as many held tasks as it
-- has room for, and sets when to look again (or drops it from the index when idle).
local function revisit(q, gate)
  local spec = rcall('HGET', q.base .. 'limits', gate)
  local ok, t = pcall(cmsgpack.unpack, spec or '')
  if not spec or not ok or type(t) ~= 'table' or type(t[1]) ~= 'number' or type(t[2]) ~= 'number' then
    rcall('ZREM', q.base .. 'gates', gate)
    return
  end
  local l = { key = ssub(gate, 3), count = t[1], per = t[2], gate = gate }
  if limits_problem(q, { l }) then
    -- A key of another type: its held tasks stay visible and are looked at again later.
    gate_at(q, gate, NOW + SAFETY_MS)
    return
  end
  local n = l.per > 0 and in_window(q, l) or running(q, l)
  if n < l.count then let_go(q, gate, l.count - n) end
  if limit_idle(q, l) then return end
  rcall('ZREM', q.base .. 'gates', gate)
  if rcall('LLEN', q.base .. 'lh:' .. gate) > 0 then
    if l.per > 0 then
      local first = rcall('ZRANGE', count_key(q, l), 0, 0, 'WITHSCORES')
      gate_at(q, gate, mmax((tonumber(first[2]) or NOW) + l.per, NOW + 1))
    else
      gate_at(q, gate, NOW + SAFETY_MS)
    end
  elseif l.per > 0 then
    local first = rcall('ZRANGE', count_key(q, l), 0, 0, 'WITHSCORES')
    if first[2] then gate_at(q, gate, tonumber(first[2]) + l.per) end
  end
end

-- Removes a task from the index of its (non-running) state; r is its record as stored.
local function unindex(q, seq, r)
  if r.state == PENDING then
    if rcall('LREM', q.base .. 'pending:' .. r.prio, 1, seq) == 0 then unhold(q, seq, r) end
  elseif WAIT_INDEX[r.state] then
    rcall('ZREM', q.base .. WAIT_INDEX[r.state], seq)
  elseif FINAL_INDEX[r.state] then
    rcall('LREM', q.base .. FINAL_INDEX[r.state], 1, final_entry(seq, r))
  end
end

-- The sequence of a task id's part before '@' in queue q: <epoch>-<seq> with the queue's epoch,
-- else a chosen id's. Returns seq, or nil and whether the task is known lost (the id has an epoch
-- and names no chosen id, and the queue has another epoch or none: Redis lost the data).
-- Enqueue refuses a chosen id of the <epoch>-<seq> form with the queue's epoch, so the two never mix.
-- The epoch and sequence of an id the store made (8 of 0-9a-z, '-', digits), or nil.
local function epoch_form(left)
  if not sfind(left, '-', 1, true) then return nil end -- most chosen ids: no pattern run
  local e, n = smatch(left, '^([0-9a-z]+)-(%d+)$')
  if e and #e == 8 then return e, n end
  return nil
end

local function resolve(q, left)
  local e, n = epoch_form(left)
  local current = epoch(q)
  if e and current and current == e then return n, false end
  local ok, seq = pcall(rcall, 'GET', q.base .. 'id:' .. left)
  if ok and seq then return seq, false end
  return nil, e ~= nil
end

-- Stores a new task (item: seq, prio, due or nil, chosen, name (''), body, and stored and mark:
-- what names.stored gave, when the caller called it) Pending, or Scheduled
-- when due later, with its chosen id and index entry. Its bucket's open count is the caller's.
local function create(q, item)
  local r = { state = PENDING, prio = item.prio, attempt = 0, fence = 0, updated = NOW, name = item.name,
    worker = '', chosen = item.chosen, err = '', body = item.stored, side = false, limits = item.limits or '' }
  if not r.body then r.body, item.mark = names.stored(q, item.body) end
  if item.mark then r.name = item.mark end
  if item.due and item.due > NOW then r.state = SCHEDULED end
  -- A task handed to an idle worker (enqueue.lua: item.start) is stored Started, not pushed.
  local start = item.start
  if start then start_task(q, item.seq, r, start.worker, start.deadline) else save(q, item.seq, r) end
  if item.chosen ~= '' then
    -- A new task of enqueue (which keeps its own list of the ids it takes) has it written with
    -- the call's other strings; elsewhere it is read back in the call.
    if staging and item.new then
      strings[item.idkey or q.base .. 'id:' .. item.chosen] = item.seq
    else
      rcall('SET', q.base .. 'id:' .. item.chosen, item.seq)
    end
  end
  if r.state == SCHEDULED then
    rcall('ZADD', q.base .. 'sched', item.due, item.seq)
    if not q.due or item.due < q.due then q.due = item.due end
  elseif not start then
    push_pending(q, item.seq, item.prio, false)
  end
  return r
end

-- Removes a task's record, side key and chosen id (its index entry is the caller's); a workflow
-- member that had not ended is delivered to its join as canceled first. (The bucket field goes
-- before the close: a wide bucket is written again as a listpack only when every record left in
-- it is short.)
local function forget(q, seq, r)
  if r.chosen ~= '' then
    if not is_final(r.state) then
      -- A workflow member removed before it ended counts as canceled for its join (on_final does
      -- nothing for a task that is no member), which would otherwise wait for it forever. The
      -- caller checked the keys its delivery writes (member_problem).
      local ended = {}
      for k, v in pairs(r) do ended[k] = v end
      ended.state = CANCELED
      ended.updated = NOW
      on_final(q, seq, ended)
    end
    rcall('DEL', q.base .. 'id:' .. r.chosen)
    pcall(rcall, 'HDEL', q.base .. 'link', seq) -- a workflow member's link, if any
  end
  if r.side then rcall('DEL', side_of(q, seq)) end
  if q.spre then q.spre[seq] = nil end
  rcall('DEL', q.base .. 'p:' .. seq) -- its progress (progress.lua), if any
  rcall('HDEL', bucket_of(q, seq), seq)
  if not is_final(r.state) then closed(q, seq) end
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

-- Publishes what the call changed: a wake per queue whose pending list became non-empty or
-- whose held tasks were let go (its name), the earliest time per queue that the call made
-- something due ('<name>@<unix ms>', on the same channel: '@' is in no queue name, so a fetcher
-- never takes it for a wake): a task scheduled, a retry settled, a limit's timer (gate_at); then
-- the final frames, the cancellations. Workers look at an idle queue only on these announcements
-- (and rarely, for safety): every path that makes a task fetchable (push_pending, let_go) or due
-- must set q.wake or q.due.
-- The final indexes a call pushed past their cap are trimmed once, here, at the end of the call
-- (after every command that can fail), not once per task.
local function flush()
  write_staged()
  for _, q in pairs(queues) do
    for index, cap in pairs(q.trims) do rcall('LTRIM', index, 0, cap - 1) end
    -- The links of members whose end was delivered (or left in the outbox) have done their work:
    -- removed after every write, so that the link hash holds only members still to end.
    local gone = q.delinked
    if gone then
      for i = 1, #gone, 1000 do pcall(rcall, 'HDEL', q.base .. 'link', unpack(gone, i, mmin(i + 999, #gone))) end
    end
  end
  for _, q in pairs(queues) do
    if q.wake then rcall('PUBLISH', WAKE, q.name) end
    if q.due then rcall('PUBLISH', WAKE, q.name .. '@' .. sformat('%.0f', q.due)) end
  end
  if #frames > 0 then rcall('PUBLISH', DONE, tconcat(frames)) end
  for i = 1, #cancels do rcall('PUBLISH', CANCEL, cancels[i]) end
end


-- ---- Workflows (docs/workflows.md) ----
-- A workflow member has a link, field <seq> of P:{q}:link: cmsgpack { join queue, join key, index }
-- (only tasks with a chosen id are looked up). Its join, the hash P:{jq}:join:<key>, lives in the
-- slot of the queue its successor runs on, and the successor's chosen id is <key>:
--   n members, got outcomes arrived, mode 'one' (a chain step: the result as it is), 'all' (the
--   results in member order) or 'settled' (every outcome), state 'open', 'done' or 'failed', prio,
--   env the successor's envelope with its first argument open (a nil at byte offset at; at -1: no
--   open argument, the successor takes no result and is made as it is written), or ''
--   for a group's own result (a record made Succeeded, named name), link the successor's own link
--   (or ''), lim the successor's limits (or ''), wf the workflow id, members the member ids (cmsgpack),
--   delay and eta when the successor waits once made (ms after its making; unix ms), relay the
--   joins that get every outcome this one gets (a fan-out; cmsgpack { { queue, key }, ... }), o:<i> the outcome of member i
--   (kind 's', 'f', 'c' or 'e', then the result or the error), failed the member that failed it.
-- A member that ends on another queue than its join's leaves the delivery in P:{q}:outbox, field
-- <seq>: cmsgpack { join queue, join key, index, kind, payload, member id, member name }; the
-- caller drives it (deliver.lua on the join's slot), then removes it; a sweep re-drives leftovers.
local KIND_OF = { [4] = 's', [5] = 'f', [6] = 'c', [7] = 'e' }
local STATE_OF = { s = SUCCEEDED, f = FAILED, c = CANCELED, e = EXPIRED }

-- What the caller does after the call, per request served (serving): drive an outbox entry
-- ('o', seq, entry) or cancel the members of a join that failed ('x', '', member ids).
local followups = {}
local serving = 0

local function followup(tag, seq, data)
  followups[#followups + 1] = serving
  followups[#followups + 1] = tag
  followups[#followups + 1] = seq
  followups[#followups + 1] = data
end

-- The field of member i's outcome in its join, 'o:<i>', made once per index below
-- 4,096 (a number made text costs about 2,200 instructions; a chord delivers one per member).
local OUTCOME_FIELD
local function outcome_field(i)
  local f = OUTCOME_FIELD[i]
  if not f then
    f = 'o:' .. sformat('%d', i)
    if i >= 0 and i < 4096 then OUTCOME_FIELD[i] = f end
  end
  return f
end

local function mp_array(n)
  if n < 16 then return schar(0x90 + n) end
  if n < 65536 then return '\220' .. spack('>H', n) end
  return '\221' .. spack('>I4', n)
end


-- The error of a step that did not run because member mid failed, expired or was canceled: an
-- error array [type, message, stack, failed task id, failed task name]; one that names its step
-- already (a cascade) is kept.
local function step_error(kind, payload, mid, mname)
  local first = sbyte(payload, 1)
  if first == 0x95 then return payload end
  if kind == 'f' and first == 0x93 then
    return '\149' .. ssub(payload, 2) .. mpack(mid) .. mpack(mname)
  end
  local what = kind == 'e' and 'TypedTasks.TaskExpired' or 'TypedTasks.TaskCanceled'
  local said = kind == 'e' and ' expired before it ran.' or ' was canceled.'
  return '\149' .. mpack(what) .. mpack('Task ' .. mname .. ' (' .. mid .. ')' .. said) .. '\192'
    .. mpack(mid) .. mpack(mname)
end

-- Makes the successor of join key of q under its chosen id (the key): Pending with body as its
-- envelope, or final (a group's result, or a step that cannot run). A step that cannot run because
-- a member failed or expired passes that kind (via) on to its own join, not its own Canceled.
local function join_successor(q, key, j, state, body, err, name, via)
  q.joins_ok = nil -- the next sequence moves on: where a successor goes is looked at again
  if rcall('GET', q.base .. 'id:' .. key) then return end
  if not epoch(q) then
    q.epoch = fresh_epoch(q, key)
    rcall('HSET', q.seq, 'epoch', q.epoch)
  end
  -- '%d': tostring keeps 14 digits (a sequence of 10^14 or more would read 1e+14).
  local seq = sformat('%d', rcall('HINCRBY', q.seq, 'next', 1))
  opened_n(q, seq, 1)
  if j.link ~= '' then rcall('HSET', q.base .. 'link', seq, j.link) end
  if state == PENDING then
    -- A step sent with a delay or an eta waits, scheduled, from its making (or until its eta).
    local due = mmax(NOW + (tonumber(j.delay) or 0), tonumber(j.eta) or 0)
    create(q, { seq = seq, prio = j.prio, chosen = key, name = '', body = body, limits = j.lim, due = due })
  else
    rcall('SET', q.base .. 'id:' .. key, seq)
    finish(q, seq, { state = state, prio = j.prio, attempt = 0, fence = 0, updated = NOW, name = ssub(name, 1, 255),
      worker = '', chosen = key, err = err, body = body, side = false, via = via })
  end
end

-- The first problem among the keys a delivery to join key of q writes when it ends the join (or
-- relays), or nil. Looked at once per join and call while no successor is made (the keys' types
-- are looked at once per call anyway), and only by a delivery that may end the join (deliver).
local function join_problem(q, key)
  if q.joins_ok and q.joins_ok[key] then return nil end
  -- Every key the successor's making writes, its indexes included: a delivery that failed at its
  -- last write would have counted the member and left no successor, and its redelivery counts nothing.
  local p = problem_at(q, 'join:' .. key, 'hash') or problem_of(q, 'seq', 'open') or problem_at(q, 'link', 'hash')
    or problem_at(q, 'outbox', 'hash') or problem_at(q, 'id:' .. key, 'string')
    or problem_of(q, 'succeeded', 'failed', 'canceled', 'expired', 'sched')
    or problem_of(q, 'pending:0', 'pending:1', 'pending:2', 'pending:3', 'pending:4', 'pending:5', 'pending:6', 'pending:7', 'pending:8', 'pending:9')
  if p then return p end
  local seq = tonumber(rcall('HGET', q.seq, 'next') or '0') + 1
  p = problem_at(q, 't:' .. bucket_no(seq), 'hash')
  if not p then
    q.joins_ok = q.joins_ok or {}
    q.joins_ok[key] = true
  end
  return p
end

-- Passes an outcome on to other joins (set below: it delivers in turn).
local relay

-- The value a join passes on: its one result, or its members' results or outcomes in order.
local function joined(jkey, j)
  local outs = {}
  for first = 0, j.n - 1, 1000 do
    local fields = {}
    for k = first, mmin(first + 999, j.n - 1) do fields[#fields + 1] = outcome_field(k) end
    local values = rcall('HMGET', jkey, unpack(fields))
    for k = 1, #fields do outs[#outs + 1] = values[k] or 'c' end
  end
  if j.mode == 'one' then
    -- A task without a result stored none: its result is a nil.
    local arg = ssub(outs[1], 2)
    return arg == '' and '\192' or arg
  end
  local items = { mp_array(j.n) }
  for k = 1, #outs do
    local kd, body = ssub(outs[k], 1, 1), ssub(outs[k], 2)
    if kd == 's' and body == '' then body = '\192' end
    if j.mode == 'all' then
      items[k + 1] = body
    elseif kd == 's' then
      items[k + 1] = '\147' .. schar(SUCCEEDED) .. body .. '\192'
    else
      items[k + 1] = '\147' .. schar(STATE_OF[kd]) .. '\192' .. (body ~= '' and body or '\192')
    end
  end
  return tconcat(items)
end

-- Every member of join key of q arrived (j its fields): makes the successor with the results.
local function join_done(q, key, jkey, j)
  -- A step that takes no result (every argument bound: at -1) is made as it is written.
  local takes = j.env == '' or j.at >= 0
  local arg = takes and joined(jkey, j) or ''
  rcall('HSET', jkey, 'state', 'done')
  -- Out of the sending set (join.lua): its members are accounted for. Under pcall: a set of
  -- another type keeps the entry, which recovery drops once it reads the join ended.
  pcall(rcall, 'ZREM', q.base .. 'sending', key)
  if j.env == '' then
    join_successor(q, key, j, SUCCEEDED, arg, '', j.name)
  elseif not takes then
    join_successor(q, key, j, PENDING, j.env, '', '')
  else
    join_successor(q, key, j, PENDING, ssub(j.env, 1, j.at) .. arg .. ssub(j.env, j.at + 2), '', '')
  end
  rcall('PEXPIRE', jkey, ttl_text(q))
  return 'done'
end

-- Member i of join key of q ended (kind, payload). Counted once per member: a member delivered
-- again (redelivered, recovered, requeued) changes nothing. Returns 'missing' (no such join),
-- 'twice', 'late' (the join ended already), 'counted', 'done' (the successor was made) or
-- 'failed' (the successor ended without running) and, then, the member ids to cancel.
local function deliver(q, key, i, kind, payload, mid, mname)
  -- Only what counting needs: the successor's fields are read once, when it is made, and the
  -- member ids (tens of kilobytes for a large group) only when a failure cancels them. Read once
  -- per call and join while it counts; read again after a delivery that ends it (its state moves).
  -- The count (got) is kept here too: this call's own HINCRBYs are the only writes to it.
  q.joins = q.joins or {}
  local f = q.joins[key]
  local jkey
  if f then
    jkey = f.jkey
  else
    jkey = q.base .. 'join:' .. key
    f = rcall('HMGET', jkey, 'n', 'mode', 'state', 'relay', 'got')
    f.n = tonumber(f[1])
    f.got = tonumber(f[5]) or 0
    f.jkey = jkey
    q.joins[key] = f
  end
  if not f[1] then
    q.joins[key] = nil
    return 'missing'
  end
  local failing = kind ~= 's' and f[2] ~= 'settled'
  -- The keys the successor's making writes are looked at only by a delivery that may make it
  -- (the last member, or a failure) or relays (its outbox): any other one writes only the join,
  -- whose type the HMGET above proved. Checked before the member is counted: a delivery that
  -- failed at its last write would have counted the member and left no successor.
  if f[4] or (f[3] == 'open' and (failing or f.got + 1 >= f.n)) then
    local p = join_problem(q, key)
    if p then error({ err = p }) end
  end
  if rcall('HSETNX', jkey, outcome_field(i), kind .. payload) == 0 then return 'twice' end
  local got = rcall('HINCRBY', jkey, 'got', '1')
  f.got = got
  local status, members = 'late', nil
  if f[3] == 'open' and not failing and got < f.n then
    status = 'counted'
  elseif f[3] == 'open' then
    local g = rcall('HMGET', jkey, 'prio', 'at', 'env', 'name', 'link', 'lim', 'delay', 'eta')
    local j = { n = tonumber(f[1]), mode = f[2], state = f[3], prio = tonumber(g[1]), at = tonumber(g[2]), env = g[3],
      name = g[4], link = g[5], lim = g[6] or '', delay = g[7], eta = g[8] }
    q.joins[key] = nil
    if failing then
      rcall('HSET', jkey, 'state', 'failed', 'failed', i)
      pcall(rcall, 'ZREM', q.base .. 'sending', key)
      local err = step_error(kind, payload, mid, mname)
      if j.env == '' then
        join_successor(q, key, j, FAILED, '', err, j.name, kind)
      else
        join_successor(q, key, j, CANCELED, j.env, err, '', kind)
      end
      rcall('PEXPIRE', jkey, ttl_text(q))
      status, members = 'failed', rcall('HGET', jkey, 'members')
    else
      status = join_done(q, key, jkey, j)
    end
  end
  -- Counted here for the first time: the joins of a fan-out hear it once too, after this join's
  -- own successor is made: a step they made first would take the sequence, and so maybe the
  -- bucket, that join_problem looked at for this one, whose making would then fail midway.
  if f[4] then relay(q, key, f[4], i, kind, payload, mid, mname) end
  return status, members
end
-- Cancels a workflow step not made yet (its join, key, is open): the step ends Canceled at once
-- (so do the later ones, through their joins) and the caller cancels the join's members, which
-- cancels the earlier steps the same way. Returns true when it did.
local function cancel_join(q, key)
  local jkey = q.base .. 'join:' .. key
  local f = rcall('HMGET', jkey, 'state', 'prio', 'env', 'name', 'link', 'members')
  if f[1] ~= 'open' then return false end
  local p = join_problem(q, key)
  if p then error({ err = p }) end
  if q.joins then q.joins[key] = nil end
  rcall('HSET', jkey, 'state', 'failed')
  pcall(rcall, 'ZREM', q.base .. 'sending', key)
  join_successor(q, key, { prio = tonumber(f[2]), link = f[5] }, CANCELED, f[3], '', f[3] == '' and f[4] or '')
  rcall('PEXPIRE', jkey, ttl_text(q))
  followup('x', '', f[6])
  return true
end

-- Delivers, and asks the caller to cancel the members of a join that failed.
local function deliver_here(q, key, i, kind, payload, mid, mname)
  local status, members = deliver(q, key, i, kind, payload, mid, mname)
  if status == 'failed' then followup('x', '', members) end
  return status
end

relay = function(q, key, targets, i, kind, payload, mid, mname)
  for n, t in ipairs(munpack(targets)) do
    -- Same queue: applied in this script; else (or a key of another type there) through the outbox.
    if not (t[1] == q.name and pcall(deliver_here, q, t[2], i, kind, payload, mid, mname)) then
      local field = 'r:' .. key .. ':' .. i .. ':' .. n
      local entry = mpack({ t[1], t[2], i, kind, payload, mid, mname })
      rcall('HSET', q.base .. 'outbox', field, entry)
      followup('o', field, entry)
    end
  end
end

-- The problem of a key the end of workflow member seq of q (a task with a chosen id) writes, or
-- nil: on_final reads its link and may leave its delivery in the outbox. Checked before a settle
-- writes: raised in on_final, it would stop the call midway. The link read is kept for on_final.
local function member_problem(q, seq)
  local p = problem_at(q, 'link', 'hash')
  if p then return p end
  q.links = q.links or {}
  if q.links[seq] == nil then q.links[seq] = rcall('HGET', q.base .. 'link', seq) or false end
  if q.links[seq] then return problem_at(q, 'outbox', 'hash') end
  return nil
end

-- While q.deferred is a table (join.lua), the deliveries of q's records made final are kept
-- there, for join.lua to make once the results of all its empty groups are made.
on_final = function(q, seq, r)
  local deferred = q.deferred
  if deferred then
    deferred[#deferred + 1] = { seq, r }
    return
  end
  local l = q.links and q.links[seq]
  if l == nil then l = rcall('HGET', q.base .. 'link', seq) end
  if not l then return end
  local link = munpack(l)
  q.delinked = q.delinked or {}
  q.delinked[#q.delinked + 1] = seq
  local kind = r.via or KIND_OF[r.state]
  local payload = r.state == SUCCEEDED and r.body or r.err
  -- Who the member is matters only to a step's error; a success counted here needs neither.
  local mid, mname = '', ''
  if kind ~= 's' or link[1] ~= q.name then
    mid = id_of(q, seq, r)
    mname = r.name ~= '' and r.name or names.of(q, r.body)
  end
  if link[1] == q.name then
    -- Same queue, same slot: applied in this script; a join key of another type leaves it in
    -- the outbox, where it stays visible.
    if pcall(deliver_here, q, link[2], link[3], kind, payload, mid, mname) then return end
    mid = id_of(q, seq, r)
    mname = r.name ~= '' and r.name or names.of(q, r.body)
  end
  local entry = mpack({ link[1], link[2], link[3], kind, payload, mid, mname })
  rcall('HSET', q.base .. 'outbox', seq, entry)
  followup('o', seq, entry)
end

-- The record a workflow step not made yet reads as (read.lua): Pending, named, no envelope, while
-- its join (key: the step's chosen id) waits; nil when there is no open join.
local function waiting_step(q, key)
  local ok, f = pcall(rcall, 'HMGET', q.base .. 'join:' .. key, 'state', 'env', 'name', 'prio')
  if not ok or f[1] ~= 'open' then return nil end
  local name = f[2] ~= '' and names.of(q, f[2]) or f[3]
  return rec_write({ state = PENDING, prio = tonumber(f[4]) or 0, attempt = 0, fence = 0, updated = NOW,
    name = ssub(name, 1, 255), worker = '', chosen = key, err = '', body = '' })
end

-- Starts a call: the keys and arguments of this call, and nothing left from the one before.
local function begin(keys, args)
  if not rcall then
    rcall, ssub, sbyte, schar, sformat, smatch, sfind = redis.call, string.sub, string.byte, string.char, string.format, string.match, string.find
    spack, sunpack, mmin, mmax, mfloor, tconcat = struct.pack, struct.unpack, math.min, math.max, math.floor, table.concat
    mpack, munpack = cmsgpack.pack, cmsgpack.unpack
    BYTE_CHAR, SMALL, PACKED_2, PACKED_4, OUTCOME_FIELD = {}, {}, {}, {}, {}
  end
  KEYS, ARGV = keys, args
  NOW, TTL = tonumber(ARGV[1]), tonumber(ARGV[2])
  FAILED_CAP, FINAL_CAP = num(ARGV[3]), num(ARGV[4])
  WAKE, DONE, CANCEL = ARGV[5], ARGV[6], ARGV[7]
  queues, staging, staged, pushes, closes, lists, unsided, frames, cancels, strings = {}, false, {}, {}, {}, {}, {}, {}, {}, {}
  if not bucket_nos or bucket_nos_n > 8192 then bucket_nos, bucket_nos_n = {}, 0 end
  followups, serving = {}, 0 -- workflows' follow-ups of this call
end
