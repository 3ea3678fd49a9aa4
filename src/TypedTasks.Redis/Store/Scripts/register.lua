-- Gives a worker its number, the short form task records keep (a name such as host:pid would
-- push a small task's running record past the inline limit into a key of its own), and forgets
-- the numbers of workers gone for long, so that the registry does not grow with every process
-- that ever ran.
-- KEYS[1]      P:workers:names, a hash: field 'next' (the last number given), field 'swept' (every
--              number up to it that still names a worker has its time in KEYS[2]), and number -> name
-- KEYS[2]      P:workers:seen:{P:workers:names}, a sorted set: number -> when its worker last confirmed it
--              (unix ms); its hash tag puts it in KEYS[1]'s slot
-- ARGV[1]      the number this worker holds ('' when none yet); ARGV[2] its name; ARGV[3] now
--              (unix ms); ARGV[4] how long a number nobody confirms is kept (ms)
-- Returns      the number, as text: the one held when the hash still gives it to this name (or
--              has lost it: Redis restarted empty, or it was forgotten while its worker was away),
--              else a new one. Numbers are never given twice ('next' only grows), so a record that
--              names a forgotten number reads as no worker, never as another one.
-- The bookkeeping of KEYS[2] runs under pcall: a key of another type there costs the forgetting,
-- never a worker its number.
-- Not a store script (shared.lua is not in front): two keys of one slot, outside any queue's.
local key, seen = KEYS[1], KEYS[2]
local held, name, now, keep = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local number
if held ~= '' then
  local owner = redis.call('HGET', key, held)
  if owner == name then
    number = held
  elseif not owner then
    if tonumber(redis.call('HGET', key, 'next') or '0') < tonumber(held) then
      redis.call('HSET', key, 'next', held)
    end
    redis.call('HSET', key, held, name)
    number = held
  end
end
if not number then
  number = string.format('%d', redis.call('HINCRBY', key, 'next', 1))
  redis.call('HSET', key, number, name)
end

if not pcall(redis.call, 'ZADD', seen, now, number) then return number end
-- Numbers given by a version that kept no times get one now, at most 100 per call: they are
-- forgotten a keeping time from here unless their workers confirm them.
-- A mark written by hand that is no whole number from 0 to 2^53 (where a double still counts by
-- ones), or is past 'next', reads as 0: the sweep starts again, never loops without end.
local function whole(v)
  local n = tonumber(v or '0')
  if n and n >= 0 and n < 9007199254740992 and n == math.floor(n) then return n end
  return nil
end
local marks = redis.call('HMGET', key, 'next', 'swept')
local last = whole(marks[1]) or 0
local swept = whole(marks[2]) or 0
if swept > last then swept = 0 end
if swept < last then
  local upto = math.min(last, swept + 100)
  local fields = {}
  for i = 1, upto - swept do fields[i] = string.format('%d', swept + i) end
  local names = redis.call('HMGET', key, unpack(fields))
  local times = { 'NX' }
  for i, field in ipairs(fields) do
    if names[i] then
      times[#times + 1] = now
      times[#times + 1] = field
    end
  end
  if #times > 1 then redis.call('ZADD', seen, unpack(times)) end
  redis.call('HSET', key, 'swept', string.format('%d', upto))
end
-- Numbers nobody confirmed for the keeping time are forgotten, at most 100 per call.
-- Only numbers leave the hash: a member written there by hand never takes 'next' with it.
local gone = redis.call('ZRANGEBYSCORE', seen, '-inf', now - keep, 'LIMIT', 0, 100)
if #gone > 0 then
  local numbers = {}
  for _, member in ipairs(gone) do
    if string.match(member, '^%d+$') then numbers[#numbers + 1] = member end
  end
  if #numbers > 0 then redis.call('HDEL', key, unpack(numbers)) end
  redis.call('ZREM', seen, unpack(gone))
end
return number
