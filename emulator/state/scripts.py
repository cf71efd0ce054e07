"""The shared log's Lua scripts (log.py runs them): each operation is one script, so one round
trip and atomic. Above each: the keys and arguments it takes, and what it answers."""

_GENERATION = """
if redis.call('HGET', KEYS[3], 'generation') ~= ARGV[1] then
  return redis.error_reply('LOST the emulator state in Redis is gone (Redis restarted without '
    .. 'its data, or was flushed); restart the emulator processes to begin afresh')
end
"""
# Entry ids ("ms-seq") in the log's order, inside a script.
OLDER = """
local function older(a, b)
  local am, as = string.match(a, '(%d+)-(%d+)')
  local bm, bs = string.match(b, '(%d+)-(%d+)')
  if tonumber(am) ~= tonumber(bm) then return tonumber(am) < tonumber(bm) end
  return tonumber(as) < tonumber(bs)
end
"""
# A caller whose place is before the floor (the log was dropped up to a full reset) begins at
# that reset's checkpoint; one before the archived entries reads the chunks first (archive.py). A
# place after them is an entry of the stream; if it is gone, Redis lost commands this process
# applied (AOF off or fsync'd once a second, then a restart; a failover): going on would let
# processes diverge silently, and reuse command numbers (so ids), so it is refused, as a lost
# generation is.
_BEHIND = (
    OLDER
    + """
if older(ARGV[2], redis.call('GET', KEYS[#KEYS - 1]) or '0-0') then return 'JUMP' end
local archived = redis.call('GET', KEYS[#KEYS]) or '0-0'
if older(ARGV[2], archived) then return 'BEHIND' end
if older(archived, ARGV[2]) and #redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2]) == 0 then
  return redis.error_reply('LOST the emulator state in Redis went back to an older copy of '
    .. 'itself (a restart from an older snapshot, a replica that took over): this process '
    .. 'applied commands Redis no longer holds; restart the emulator processes to go on from '
    .. 'what Redis kept')
end
"""
)

# Redis's time, as every command's "now" (seconds, microseconds kept)
_STAMP = """
local t = redis.call('TIME')
local stamp = t[1] .. '.' .. string.format('%06d', tonumber(t[2]))
"""

# KEYS log, n, meta, batch, floor, archived; ARGV generation, after, origin, then (request id, head,
# body) per request: the requests a process gathered while its previous batch was on its way (a
# group commit: one round trip for all of them). Returns the entries after `after` that precede the
# batch, whole, and the batch's own as [stamp, id, n, id, n, ...]: the caller holds their heads
# and bodies already, so they are not sent back (on one process, that is every entry).
# The batch key makes a retry (the reply was lost, redis-py sent it again) append nothing twice;
# a retry gets every entry up to the batch's last whole.
APPEND = (
    _GENERATION
    + _BEHIND
    + """
local done = redis.call('GET', KEYS[4])
if done then return {redis.call('XRANGE', KEYS[1], '(' .. ARGV[2], done), {}} end
"""
    + _STAMP
    + """
local own = {stamp}
local id
for i = 4, #ARGV, 3 do
  local n = redis.call('INCR', KEYS[2])
  id = redis.call('XADD', KEYS[1], '*', 'k', 'http', 'n', n, 't', stamp, 'o', ARGV[3],
    'r', ARGV[i], 'h', ARGV[i + 1], 'b', ARGV[i + 2])
  own[#own + 1] = id
  own[#own + 1] = n
end
redis.call('SET', KEYS[4], id, 'PX', 60000)
return {redis.call('XRANGE', KEYS[1], '(' .. ARGV[2], '(' .. own[2]), own}
"""
)

# KEYS log, n, meta, floor, archived; ARGV generation, after, count
READ = (
    _GENERATION
    + _BEHIND
    + """
return redis.call('XRANGE', KEYS[1], '(' .. ARGV[2], '+', 'COUNT', ARGV[3])
"""
)

# KEYS log, n, meta, tick; ARGV generation, origin, least gap (ms)
TICK = (
    _GENERATION
    + _STAMP
    + """
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ms - tonumber(redis.call('GET', KEYS[4]) or '0') < tonumber(ARGV[3]) then return 0 end
redis.call('SET', KEYS[4], ms)
local n = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], '*', 'k', 'tick', 'n', n, 't', stamp, 'o', ARGV[2], 'r', '',
  'h', '', 'b', '')
return 1
"""
)

# KEYS outcome, claim; ARGV origin, lease (ms). 0 ours, 1 busy, 2 done
CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 2 end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
return 1
"""

# KEYS log, n, meta, outcome, claim; ARGV generation, outcome, origin, head, ttl (s)
RECORD = (
    _GENERATION
    + """
if not redis.call('SET', KEYS[4], ARGV[2], 'NX', 'EX', ARGV[5]) then return 0 end
redis.call('DEL', KEYS[5])
"""
    + _STAMP
    + """
local n = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], '*', 'k', 'settle', 'n', n, 't', stamp, 'o', ARGV[3], 'r', '',
  'h', ARGV[4], 'b', '')
return 1
"""
)

# KEYS meta, checkpoint; ARGV generation, entry id, data: kept only if newer than the one held
CHECKPOINT = (
    OLDER
    + """
if redis.call('HGET', KEYS[1], 'generation') ~= ARGV[1] then return 0 end
local held = redis.call('HGET', KEYS[2], 'id')
if held and not older(held, ARGV[2]) then return 0 end
redis.call('HSET', KEYS[2], 'id', ARGV[2], 'data', ARGV[3])
return 1
"""
)

# ARGV outcome prefix, claim prefix, fields...: each outcome, or 'busy' / 'lapsed' (keys named
# from prefixes: Redis Cluster is refused, cluster.py)
OUTCOMES = """
local found = {}
for i = 3, #ARGV do
  local outcome = redis.call('GET', ARGV[1] .. ARGV[i])
  if outcome then found[#found + 1] = outcome
  elseif redis.call('EXISTS', ARGV[2] .. ARGV[i]) == 1 then found[#found + 1] = 'busy'
  else found[#found + 1] = 'lapsed' end
end
return found
"""
