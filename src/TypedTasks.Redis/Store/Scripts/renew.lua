-- Renews the leases a worker holds: each whose record is Started with the same fence.
-- ARGV[A]      the new lease deadline (unix ms); ARGV[A+1..] three per lease: queue index, the id's part before '@', fence
-- Returns      how many leases were renewed, and the problem of a queue whose leases key holds
--              another Redis type ('' when none): that queue's leases are left as they are, the
--              other queues' are renewed.
-- Order: a queue's leases key is checked before its first write; ZADD XX only moves a deadline,
-- it adds nothing.
local deadline = tonumber(ARGV[A])
local count = (#ARGV - A) / 3
local renewed = 0
local bad = ''
for i = 1, count do
  local at = A + 1 + (i - 1) * 3
  local q = queue(num(ARGV[at]))
  local p = problem_of(q, 'leases')
  if p then
    bad = p
  else
    local seq = resolve(q, ARGV[at + 1])
    local r = seq and try_load(q, seq)
    if r and r.state == STARTED and r.fence == num(ARGV[at + 2]) then
      renewed = renewed + redis.call('ZADD', q.base .. 'leases', 'XX', 'CH', deadline, seq)
    end
  end
end
return { renewed, bad }
