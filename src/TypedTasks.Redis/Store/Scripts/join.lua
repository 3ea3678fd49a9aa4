-- Writes workflow joins in the queue KEYS[1] (their successors' queue), before any member is sent.
-- ARGV[A..]    thirteen per join: key, member count, mode ('one', 'all', 'settled'), priority, offset
--              of the open argument (-1: none, the successor takes no result), successor envelope
--              ('' for a group's own result), result name,
--              the successor's own link ('' when none), member ids (cmsgpack), the successor's
--              limits ('' when none; as a record keeps them, shared.lua), its delay once made (ms,
--              0 for none), its eta (unix ms, 0 for none) and the joins it relays every outcome
--              to ('' or cmsgpack { { queue, key }, ... }); then when its members must all be
--              stored (unix ms), the workflow's handle (the id of its last step, '' when none) and
--              the workflow id (ARGV last).
-- A join with members is kept in the queue's sending set (KEYS[1] base .. 'sending', scored by
-- that time) until its sender has stored every part of the workflow (it then removes it), or until
-- recovery has accounted for each member (RedisTaskStore.Workflows.cs): a sender that stopped
-- between its calls leaves a join that no member would end.
-- Returns      how many were written, then four per follow-up (shared.lua): an empty group's result
--              delivered to a join in another queue leaves an outbox entry for the caller to drive.
-- A join that exists already is left as it is (a repeated send of the same workflow); an empty
-- group's join makes its successor at once.
-- Order: every join key is checked first; nothing is removed.
local q = queue(1)
local count = (#ARGV - A - 2) / 13
local wf = ARGV[#ARGV]
local handle = ARGV[#ARGV - 1]
local sent_by = ARGV[#ARGV - 2]
check(q, 'seq', 'open')
local empties = 0
for k = 1, count do
  local key = ARGV[A + (k - 1) * 13]
  local p = problem_at(q, 'join:' .. key, 'hash') or problem_at(q, 'id:' .. key, 'string') or problem_at(q, 'link', 'hash')
  if not p and ARGV[A + (k - 1) * 13 + 1] ~= '0' then p = problem_at(q, 'sending', 'zset') end
  -- An empty group's join makes its successor here: every key that writes is checked too.
  if not p and ARGV[A + (k - 1) * 13 + 1] == '0' then
    p = join_problem(q, key)
    empties = empties + 1
  end
  if p then error({ err = p }) end
end
if empties > 0 then
  -- The empty groups' successors take the next sequences, one each (their deliveries, which
  -- may make further steps, wait until every one is made: q.deferred, shared.lua on_final): the
  -- buckets of all of them are checked, not only the next one.
  local next_seq = tonumber(redis.call('HGET', q.seq, 'next') or '0')
  for b = math.floor((next_seq + 1) / 128), math.floor((next_seq + empties) / 128) do
    local p = problem_at(q, 't:' .. string.format('%d', b), 'hash')
    if p then error({ err = p }) end
  end
  q.deferred = {}
end
local written = 0
for k = 1, count do
  local at = A + (k - 1) * 13
  local key = q.base .. 'join:' .. ARGV[at]
  if redis.call('EXISTS', key) == 0 then
    if ARGV[at + 1] ~= '0' then redis.call('ZADD', q.base .. 'sending', sent_by, ARGV[at]) end
    redis.call('HSET', key, 'n', ARGV[at + 1], 'got', 0, 'mode', ARGV[at + 2], 'state', 'open', 'prio', ARGV[at + 3],
      'at', ARGV[at + 4], 'env', ARGV[at + 5], 'name', ARGV[at + 6], 'link', ARGV[at + 7], 'members', ARGV[at + 8], 'lim', ARGV[at + 9], 'wf', wf)
    -- Only a step that waits once made keeps when: most joins stay as small as before.
    if ARGV[at + 10] ~= '0' then redis.call('HSET', key, 'delay', ARGV[at + 10]) end
    if ARGV[at + 11] ~= '0' then redis.call('HSET', key, 'eta', ARGV[at + 11]) end
    if ARGV[at + 12] ~= '' then redis.call('HSET', key, 'relay', ARGV[at + 12]) end
    if handle ~= '' then redis.call('HSET', key, 'end', handle) end
    written = written + 1
    if ARGV[at + 1] == '0' then
      -- An empty group: its result (an empty array) is there at once.
      join_done(q, ARGV[at], key, { n = 0, mode = ARGV[at + 2], prio = tonumber(ARGV[at + 3]), at = tonumber(ARGV[at + 4]),
        env = ARGV[at + 5], name = ARGV[at + 6], link = ARGV[at + 7], lim = ARGV[at + 9], delay = ARGV[at + 10], eta = ARGV[at + 11] })
    end
  end
end
local held = q.deferred or {}
q.deferred = nil
for _, d in ipairs(held) do on_final(q, d[1], d[2]) end
flush()
local out = { written }
for k = 1, #followups do out[1 + k] = followups[k] end
return out
