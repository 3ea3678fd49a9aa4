-- Reads tasks by id (GetAsync, WaitAsync, GetStoredAsync). Reads only.
-- ARGV[A..]    two per id: queue index, the id's part before '@'
-- Returns      three per id: 'r' and the record and its due time (lease deadline, or due of a
--              scheduled or retrying task; -1 when none); a workflow step whose join is waiting
--              for its members reads as a Pending record with no envelope; 'n' not stored; 'l' lost (the queue's
--              epoch is not the id's: Redis lost the data).
local out = {}
local count = (#ARGV - A + 1) / 2
for i = 1, count do
  local at = A + (i - 1) * 2
  local q = queue(num(ARGV[at]))
  local seq, lost = resolve(q, ARGV[at + 1])
  local n = (i - 1) * 3
  local s = nil
  if seq then
    local ok, raw = pcall(load_raw, q, seq)
    if ok then s = raw end
  end
  if not s and not seq then s = waiting_step(q, ARGV[at + 1]) end
  if s then
    local state = string.byte(s, 1)
    local due = nil
    if state == STARTED then
      due = redis.call('ZSCORE', q.base .. 'leases', seq)
    elseif WAIT_INDEX[state] then
      due = redis.call('ZSCORE', q.base .. WAIT_INDEX[state], seq)
    end
    out[n + 1] = 'r'
    out[n + 2] = names.outward(q, s)
    out[n + 3] = tonumber(due or -1)
  else
    out[n + 1] = lost and 'l' or 'n'
    out[n + 2] = ''
    out[n + 3] = -1
  end
end
return out
