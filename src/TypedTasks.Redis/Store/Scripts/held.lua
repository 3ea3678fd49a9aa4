-- A page of the tasks one limit of the queue KEYS[1] holds back, in the order it lets them go.
-- ARGV[A]      the limit ('c:<key>' or 'r:<key>'); ARGV[A+1] the offset; ARGV[A+2] the count
-- Returns      three per task, as list.lua: id, record, -1.
local q = queue(1)
local list = q.base .. 'lh:' .. ARGV[A]
need(list, 'list')
local offset = tonumber(ARGV[A + 1])
local want = tonumber(ARGV[A + 2])
-- Let go from the tail (RPOP): the page is read from there.
local page = redis.call('LRANGE', list, -(offset + want), -(offset + 1))
local out = {}
for j = #page, 1, -1 do
  local ok, s = pcall(load_raw, q, page[j])
  local r = nil
  if ok and s then ok, r = pcall(rec_read, s) end
  if ok and r then
    out[#out + 1] = id_of(q, page[j], r)
    out[#out + 1] = names.outward(q, s)
    out[#out + 1] = -1
  end
end
return out
