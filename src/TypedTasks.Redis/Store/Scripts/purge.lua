-- Deletes up to ARGV[A] pending tasks of the queue KEYS[1], in run order, then those limits hold back.
-- Returns      how many were deleted, then the follow-ups (shared.lua) of the workflow members
--              deleted: each counts as canceled for its join, as a deleted member does (delete.lua).
-- Order: the pages to delete and their records are read, and the keys touched checked (for a
-- workflow member, those its delivery writes), before anything is written; the records go, then
-- the entries are popped.
local q = queue(1)
local room = tonumber(ARGV[A])
check(q, 'open')
check_pending(q)
local pages = {}
for p = 9, 0, -1 do
  if room <= 0 then break end
  local list = q.base .. 'pending:' .. p
  local page = redis.call('LRANGE', list, -room, -1)
  if #page > 0 then
    pages[#pages + 1] = { list = list, seqs = page }
    room = room - #page
  end
end
-- Then the tasks limits hold back, limit by limit, in the order each would let them go.
for _, gate in ipairs(room > 0 and holding(q) or {}) do
  if room <= 0 then break end
  local list = q.base .. 'lh:' .. gate
  local page = redis.call('LRANGE', list, -room, -1)
  if #page > 0 then
    pages[#pages + 1] = { list = list, seqs = page, held = true }
    room = room - #page
  end
end
for _, page in ipairs(pages) do
  page.records = {}
  for j, seq in ipairs(page.seqs) do
    local r = load(q, seq)
    page.records[j] = r or false
    if r and r.chosen ~= '' and not is_final(r.state) then
      local p = member_problem(q, seq)
      if p then error({ err = p }) end
    end
  end
end
local deleted = 0
serving = 1
for _, page in ipairs(pages) do
  for j = #page.seqs, 1, -1 do
    local seq, r = page.seqs[j], page.records[j]
    if r then
      -- A workflow member purged counts as canceled for its join (forget).
      forget(q, seq, r)
      deleted = deleted + 1
    end
  end
  redis.call('RPOP', page.list, #page.seqs)
  if page.held then redis.call('HINCRBY', q.seq, 'held', -#page.seqs) end
end
flush()
local out = { deleted }
for k = 1, #followups do out[1 + k] = followups[k] end
return out
