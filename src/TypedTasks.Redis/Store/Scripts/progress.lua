-- A running task's latest progress (IProgress<T> on the worker; TaskProgress<T> for callers).
-- ARGV[A]      'set' or 'get'; ARGV[A+1] the id's part before '@'
-- set:         ARGV[A+2] the lease's fence, ARGV[A+3] the encoded value. Stored only while the
--              record is Started under that fence (a stale run, recovered and fetched again, or
--              one that has ended, changes nothing); kept as P:{q}:p:<seq> for the queue's result
--              TTL after its last write. Returns 1 when stored, 0 when refused.
-- get:         Returns { attempt, updated ms, value } or { } when the task has none (or is not stored).
-- Order: one write, last.
local op = ARGV[A]
local seq = resolve(queue(1), ARGV[A + 1])
if not seq then
  if op == 'set' then return 0 end
  return {}
end
local q = queue(1)
local key = q.base .. 'p:' .. seq
if op == 'get' then
  local s = redis.call('GET', key)
  if not s then return {} end
  local attempt, updated = struct.unpack('>HI6', s)
  return { attempt, updated, string.sub(s, 9) }
end
local r = try_load(q, seq)
if not r or r.state ~= STARTED or r.fence ~= tonumber(ARGV[A + 2]) then
  return 0
end
redis.call('SET', key, struct.pack('>HI6', r.attempt, NOW) .. ARGV[A + 3], 'PX', ttl_of(q))
return 1
