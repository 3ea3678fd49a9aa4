-- A page of the tasks of the queue KEYS[1] in one state, in O(page). Writes only to drop final
-- index entries older than the result TTL.
-- ARGV[A]      the state; ARGV[A+1] the offset; ARGV[A+2] the count
-- Returns      three per task: id, record, due time (-1 when none).
-- Pending: in run order (priority 9 first, oldest first), then the tasks limits hold back (shared.lua,
-- holding); scheduled and retrying by due time;
-- started by lease deadline; final newest first.
local q = queue(1)
local state = tonumber(ARGV[A])
local offset = tonumber(ARGV[A + 1])
local want = tonumber(ARGV[A + 2])
local seqs, dues = {}, {}
-- By rank, O(log n + page): Redis 7.0 and 7.2 walk the offset of a by-score range with LIMIT
-- entry by entry, so a deep page of a large set would cost O(offset). The leases set's member
-- at +inf (shared.lua, KEEP_SKIPLIST) is last by rank and no task: a page that reaches it leaves
-- it out.
local function scored(key)
  local page = redis.call('ZRANGE', key, offset, offset + want - 1, 'WITHSCORES')
  for i = 1, #page, 2 do
    if page[i] ~= KEEP_SKIPLIST then
      seqs[#seqs + 1] = page[i]
      dues[#dues + 1] = tonumber(page[i + 1])
    end
  end
end
-- The entries of a list run from its tail (RPOP): a page of them, past what offset still skips.
local function from_tail(list)
  local len = redis.call('LLEN', list)
  if offset >= len then
    offset = offset - len
    return
  end
  local take = math.min(want - #seqs, len - offset)
  local page = redis.call('LRANGE', list, -(offset + take), -(offset + 1))
  for j = #page, 1, -1 do
    seqs[#seqs + 1] = page[j]
    dues[#dues + 1] = -1
  end
  offset = 0
end
if state == PENDING then
  for p = 9, 0, -1 do
    if #seqs >= want then break end
    from_tail(q.base .. 'pending:' .. p)
  end
  -- Then the tasks limits hold back, limit by limit, each in the order it lets them go.
  for _, gate in ipairs(#seqs < want and holding(q) or {}) do
    if #seqs >= want then break end
    from_tail(q.base .. 'lh:' .. gate)
  end
elseif state == STARTED then
  scored(q.base .. 'leases')
elseif WAIT_INDEX[state] then
  scored(q.base .. WAIT_INDEX[state])
else
  need(q.base .. FINAL_INDEX[state], 'list')
  trim_final(q, q.base .. FINAL_INDEX[state])
  local page = redis.call('LRANGE', q.base .. FINAL_INDEX[state], offset, offset + want - 1)
  for j = 1, #page do
    seqs[#seqs + 1] = string.match(page[j], '^(%d+)')
    dues[#dues + 1] = -1
  end
end
-- A task whose record cannot be read (cut short, or a key of another type) is left out of the
-- page, as one whose record is gone: a fetch fails it, with the reason, when it comes to it.
local out = {}
for i = 1, #seqs do
  local ok, s = pcall(load_raw, q, seqs[i])
  local r = nil
  if ok and s then ok, r = pcall(rec_read, s) end
  if ok and r then
    out[#out + 1] = id_of(q, seqs[i], r)
    out[#out + 1] = names.outward(q, s)
    out[#out + 1] = dues[i]
  end
end
return out
