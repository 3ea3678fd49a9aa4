-- The limits of the queue KEYS[1] in use (shared.lua, limits), with what each counts and holds.
-- ARGV[A]      the most limits
-- Returns      five per limit: its name ('c:<key>' or 'r:<key>'), count, window ms (0: concurrency),
--              active (running, or starts in the window), held.
-- Writes only to drop a rate window's old starts and a limit that counts and holds nothing from
-- the index. Cost: O(limits read).
local q = queue(1)
local most = tonumber(ARGV[A])
need(q.base .. 'limits', 'hash')
local out = {}
local cursor = '0'
local found = 0
for _ = 1, 100 do
  local page = redis.call('HSCAN', q.base .. 'limits', cursor, 'COUNT', 200)
  cursor = page[1]
  local fields = page[2]
  for i = 1, #fields, 2 do
    if found >= most then break end
    local gate, spec = fields[i], fields[i + 1]
    local ok, t = pcall(cmsgpack.unpack, spec)
    if ok and type(t) == 'table' and type(t[1]) == 'number' and type(t[2]) == 'number' then
      local l = { key = string.sub(gate, 3), count = t[1], per = t[2], gate = gate }
      if not limits_problem(q, { l }) then
        local active = l.per > 0 and in_window(q, l) or redis.call('SCARD', count_key(q, l))
        local held = redis.call('LLEN', q.base .. 'lh:' .. gate)
        if active == 0 and held == 0 then
          limit_idle(q, l)
        else
          found = found + 1
          out[#out + 1] = gate
          out[#out + 1] = l.count
          out[#out + 1] = l.per
          out[#out + 1] = active
          out[#out + 1] = held
        end
      end
    end
  end
  if cursor == '0' or found >= most then break end
end
return out
