"""The Redis engine's Lua scripts: each touches one tenant's keys (KEYS[1] is the tenant's
`epoch`, so a Redis Cluster routes it to the tenant's shard), and each is one round trip.

Every script begins at the tenant's current epoch: a tenant's reset moves its epoch on, so the
whole of what it held is left behind at once (swept later) and a reset costs nothing in
proportion to what the tenant holds. A unit of work that loaded records carries the epoch it
saw; its commit is refused (RESET) if the tenant was reset since, as a run of due events is if
its lease went to another process (FENCED).

ARGV[1] is the tenant's root ("rcs:{t<tag>}:"); the keys below it are named in keys.py, which
every script reads as the tables `K` (below its base, "<root><epoch>:") and `R` (below its root).
SCRIPTS lists them all, each marked as one that writes or one that only reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...core.models import STATUS_RANK
from . import keys

_RANKS = ", ".join(f"['{status.value}']={rank}" for status, rank in STATUS_RANK.items())


@dataclass(frozen=True)
class Script:
    source: str
    writes: bool  # False: it only reads (one answering says nothing of whether a full Redis
    # has room again)


PRELUDE = (
    keys.lua_table("K", keys.TENANT)
    + keys.lua_table("R", keys.ROOT)
    + """local root = ARGV[1]
local epoch = redis.call('GET', root .. R.epoch) or '0'
local base = root .. epoch .. ':'
local SEP = '\\"""
    + str(ord(keys.SEP))
    + """'
local RANK = {"""
    + _RANKS
    + """}

local function seqid(seq, id)
  return string.format('%012d|', seq) .. id
end

local function fetch(ids, out)
  for _, id in ipairs(ids) do
    out[#out + 1] = redis.call('HGETALL', base .. K.message .. id)
  end
  return out
end

local function exchanges(hashes)
  local seen, out = {}, {}
  for _, h in ipairs(hashes) do
    for i = 1, #h, 2 do
      if h[i] == 'x' and h[i + 1] ~= '' and not seen[h[i + 1]] then
        seen[h[i + 1]] = true
        out[#out + 1] = h[i + 1]
        out[#out + 1] = redis.call('GET', base .. K.exchange .. h[i + 1]) or ''
      end
    end
  end
  return out
end

local function ids_of(members)
  local out = {}
  for i, m in ipairs(members) do
    out[i] = string.match(m, '^[^|]*|(.*)$') or m
  end
  return out
end

local function earliest(key)
  local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return first[2] or ''
end

local function count(state, by)
  redis.call('HINCRBY', base .. K.delivery_counts, state, by)
end
"""
)


def reading(body: str) -> Script:
    return Script(PRELUDE + body, writes=False)


def writing(body: str) -> Script:
    return Script(PRELUDE + body, writes=True)


# Apply units of work of one tenant, each all or none. ARGV: root, the call's token ('' none),
# max messages (0: none), then the units (msgpack: [[epoch it loaded at ('' none), fence token
# ('' none), ops], ...]). A unit whose epoch is not the tenant's (it was reset since) is refused
# RESET, one whose fence is not the lease's FENCED, one with an op of the wrong shape MALFORMED
# (before anything is written); the others are applied in order. Answers
# {each unit's status, earliest due, earliest ready}. A call whose token was applied already (a
# retry after its answer was lost) is answered as it was, and applies nothing again.
#
# Ops: {'X', key, exchange} {'M', id, record, wall, status, created, provider, agent, phone,
# batch, client's id, user message (1/0), exchange key, {{event, time}...}} {'E', id, event,
# time, status ('' unchanged)} {'S', id, status} {'D', time, due event} {'R', member}
# {'C', id, record, lane, due} {'F', id, record}.
COMMIT = writing(
    """
local done = ARGV[2] ~= '' and root .. R.done .. ARGV[2] or nil
if done then
  local said = redis.call('GET', done)
  if said then
    return {cmsgpack.unpack(said), earliest(base .. K.due), earliest(base .. K.ready)}
  end
end
local units = cmsgpack.unpack(ARGV[4])
local held = nil

-- Index entries gather per sorted set and go in one ZADD each (a call's sends mostly share their
-- sets); they go before anything that reads or moves an index (an event, a status, evictions).
local adds, order = {}, {}
local function zadd(key, score, member)
  local pending = adds[key]
  if not pending then
    pending = {}
    adds[key] = pending
    order[#order + 1] = key
  end
  pending[#pending + 1] = score
  pending[#pending + 1] = member
end
local function flush()
  for _, key in ipairs(order) do
    local pending = adds[key]
    for i = 1, #pending, 1000 do
      redis.call('ZADD', key, unpack(pending, i, math.min(i + 999, #pending)))
    end
  end
  adds, order = {}, {}
end

-- An exchange's count in `xr` is how many messages name it beyond the first (none: one).
local xfresh, xnamed = {}, {}

local function evict(id)
  local k = base .. K.message .. id
  local f = redis.call('HMGET', k, 'q', 'p', 'a', 'ph', 'b', 'ex', 'u', 'x', 's', 'n')
  redis.call('ZREM', base .. K.all, id)
  if not f[1] then return end
  local q, p, a, ph, b, ex, u, x, s, n = unpack(f)
  redis.call('ZREM', base .. K.provider .. p, id)
  redis.call('ZREM', base .. K.agent .. p .. SEP .. a, id)
  redis.call('ZREM', base .. K.phone .. ph, id)
  redis.call('ZREM', base .. K.conversation .. p .. SEP .. a .. SEP .. ph, id)
  if u ~= '1' then redis.call('ZREM', base .. K.sent .. p, seqid(tonumber(q), id)) end
  redis.call('ZREM', base .. K.status .. s, id)
  if b and b ~= '' then redis.call('LREM', base .. K.batch .. b, 1, id) end
  if ex and ex ~= '' then redis.call('LREM', base .. K.external .. p .. SEP .. ex, 1, id) end
  for i = 1, tonumber(n) do
    local t = redis.call('HGET', k, 't' .. i)
    if t then
      redis.call('ZREM', base .. K.timeline .. p .. SEP .. a, t)
      redis.call('ZREM', base .. K.phone_timeline .. p .. SEP .. a .. SEP .. ph, t)
    end
  end
  if x and x ~= '' then
    if redis.call('HINCRBY', base .. K.exchange_refs, x, -1) < 0 then
      redis.call('HDEL', base .. K.exchange_refs, x)
      redis.call('DEL', base .. K.exchange .. x)
    end
  end
  redis.call('DEL', k)
  redis.call('HINCRBY', base .. K.counts, 'evicted', 1)
end

local function set_status(id, k, new)
  local old = redis.call('HGET', k, 's')
  if old == new then return end
  local q = redis.call('HGET', k, 'q')
  redis.call('ZREM', base .. K.status .. old, id)
  redis.call('ZADD', base .. K.status .. new, q, id)
  redis.call('HSET', k, 's', new)
end

-- Which units apply, and how many numbers of each counter they take (one INCRBY each). A unit
-- with an op of the wrong shape is refused by itself (MALFORMED) before anything is written.
local ARITY = {X = 3, M = 14, E = 5, S = 3, D = 3, R = 2, C = 5, F = 3}
local function malformed(unit)
  if type(unit) ~= 'table' or type(unit[1]) ~= 'string' or type(unit[2]) ~= 'string'
      or type(unit[3]) ~= 'table' then
    return true
  end
  for _, op in ipairs(unit[3]) do
    if type(op) ~= 'table' or ARITY[op[1]] ~= #op then return true end
    if op[1] == 'M' and type(op[14]) ~= 'table' then return true end
  end
  return false
end
local statuses, messages, events, dues = {}, 0, 0, 0
for u, unit in ipairs(units) do
  local status = 'OK'
  if malformed(unit) then
    status = 'MALFORMED'
  elseif unit[1] ~= '' and unit[1] ~= epoch then
    status = 'RESET'
  elseif unit[2] ~= '' then
    if held == nil then held = redis.call('GET', base .. K.run) or false end
    if held ~= unit[2] then status = 'FENCED' end
  end
  statuses[u] = status
  if status == 'OK' then
    for _, op in ipairs(unit[3]) do
      local kind = op[1]
      if kind == 'M' then
        messages = messages + 1
        events = events + #op[14]
      elseif kind == 'E' then
        events = events + 1
      elseif kind == 'D' then
        dues = dues + 1
      end
    end
  end
end
local q = messages > 0 and redis.call('INCRBY', base .. K.seq, messages) - messages or 0
local e = events > 0 and redis.call('INCRBY', base .. K.event_seq, events) - events or 0
local d = dues > 0 and redis.call('INCRBY', base .. K.due_seq, dues) - dues or 0

for u, unit in ipairs(units) do
  if statuses[u] == 'OK' then
    for _, op in ipairs(unit[3]) do
      local kind = op[1]
      if kind == 'X' then
        local made = redis.call('SET', base .. K.exchange .. op[2], op[3], 'NX') and true or false
        xfresh[op[2]] = xfresh[op[2]] or made
      elseif kind == 'M' then
        local id, s, ca = op[2], op[5], op[6]
        local p, a, ph = op[7], op[8], op[9]
        local b, ex, user, x, happened = op[10], op[11], op[12], op[13], op[14]
        local k = base .. K.message .. id
        q = q + 1
        local fields = {'r', op[3], 'w', op[4], 'q', q, 's', s, 'n', #happened, 'ca', ca,
          'p', p, 'a', a, 'ph', ph, 'b', b, 'ex', ex, 'u', user, 'x', x}
        local tl = base .. K.timeline .. p .. SEP .. a
        local tp = base .. K.phone_timeline .. p .. SEP .. a .. SEP .. ph
        for i, ev in ipairs(happened) do
          e = e + 1
          local t = string.format('%012d|%s|%d', e, id, i)
          fields[#fields + 1] = 'e' .. i
          fields[#fields + 1] = ev[1]
          fields[#fields + 1] = 't' .. i
          fields[#fields + 1] = t
          zadd(tl, ev[2], t)
          zadd(tp, ev[2], t)
        end
        for i = 1, #fields, 1000 do
          redis.call('HSET', k, unpack(fields, i, math.min(i + 999, #fields)))
        end
        zadd(base .. K.all, q, id)
        zadd(base .. K.provider .. p, q, id)
        zadd(base .. K.agent .. p .. SEP .. a, q, id)
        zadd(base .. K.phone .. ph, q, id)
        zadd(base .. K.conversation .. p .. SEP .. a .. SEP .. ph, q, id)
        if user ~= '1' then zadd(base .. K.sent .. p, ca, seqid(q, id)) end
        zadd(base .. K.status .. s, q, id)
        if b ~= '' then redis.call('RPUSH', base .. K.batch .. b, id) end
        if ex ~= '' then redis.call('RPUSH', base .. K.external .. p .. SEP .. ex, id) end
        if x ~= '' then xnamed[x] = (xnamed[x] or 0) + 1 end
      elseif kind == 'E' then
        local id, status = op[2], op[5]
        local k = base .. K.message .. id
        e = e + 1
        flush()
        if redis.call('EXISTS', k) == 1 then
          local n = redis.call('HINCRBY', k, 'n', 1)
          local f = redis.call('HMGET', k, 'p', 'a', 'ph', 's')
          local t = string.format('%012d|%s|%d', e, id, n)
          redis.call('HSET', k, 'e' .. n, op[3], 't' .. n, t)
          redis.call('ZADD', base .. K.timeline .. f[1] .. SEP .. f[2], op[4], t)
          local tp = base .. K.phone_timeline .. f[1] .. SEP .. f[2] .. SEP .. f[3]
          redis.call('ZADD', tp, op[4], t)
          if status ~= '' and RANK[status] > RANK[f[4]] then set_status(id, k, status) end
        end
      elseif kind == 'S' then
        local k = base .. K.message .. op[2]
        flush()
        if redis.call('EXISTS', k) == 1 then set_status(op[2], k, op[3]) end
      elseif kind == 'D' then
        d = d + 1
        zadd(base .. K.due, op[2], string.format('%012d|', d) .. op[3])
      elseif kind == 'R' then
        redis.call('ZREM', base .. K.due, op[2])
      elseif kind == 'C' then
        local id, lane, due = op[2], op[4], op[5]
        local k = base .. K.delivery .. id
        redis.call('HSET', k, 'r', op[3], 'st', 'pending', 'n', 0, 'due', due, 'ln', lane)
        redis.call('ZADD', base .. K.deliveries, id, id)
        count('pending', 1)
        if redis.call('HSETNX', base .. K.lanes, lane, id) == 1 then
          redis.call('ZADD', base .. K.ready, due, id)
        else
          redis.call('RPUSH', base .. K.lane .. lane, id)
        end
      elseif kind == 'F' then
        redis.call('HSET', base .. K.files, op[2], op[3])
        redis.call('ZADD', base .. K.file_order, redis.call('INCR', base .. K.file_seq), op[2])
      else
        return redis.error_reply('unknown op ' .. tostring(kind))  -- (MALFORMED: never here)
      end
    end
  end
end

flush()
for x, named in pairs(xnamed) do
  local beyond = xfresh[x] and named - 1 or named
  if beyond > 0 then redis.call('HINCRBY', base .. K.exchange_refs, x, beyond) end
end
local most = tonumber(ARGV[3])
if most > 0 and messages > 0 then
  local over = redis.call('ZCARD', base .. K.all) - most
  if over > 0 then
    for _, id in ipairs(redis.call('ZRANGE', base .. K.all, 0, over - 1)) do evict(id) end
  end
end
if done then redis.call('SET', done, cmsgpack.pack(statuses), 'PX', 60000) end
return {statuses, earliest(base .. K.due), earliest(base .. K.ready)}
"""
)

# Messages by id. ARGV: root, with exchanges (1/0), ids... Answers {epoch, hashes, exchanges}.
FETCH = reading(
    """
local ids = {}
for i = 3, #ARGV do ids[#ids + 1] = ARGV[i] end
local hashes = fetch(ids, {})
return {epoch, hashes, ARGV[2] == '1' and exchanges(hashes) or {}}
"""
)

# A list's messages (a batch, a client id's). ARGV: root, list name. Answers {epoch, hashes}.
LISTED = reading(
    """
return {epoch, fetch(redis.call('LRANGE', base .. ARGV[2], 0, -1), {})}
"""
)

# The newest message sent (not merely scheduled) in a conversation. ARGV: root, its index name.
LATEST = reading(
    """
local members = redis.call('ZREVRANGE', base .. ARGV[2], 0, -1)
for _, id in ipairs(members) do
  if redis.call('HGET', base .. K.message .. id, 's') ~= 'scheduled' then
    return {epoch, fetch({id}, {})}
  end
end
return {epoch, {}}
"""
)

# A provider's messages sent in a time range, one page. ARGV: root, index name, since, until,
# newest first (1/0), offset, limit. Answers {epoch, total, hashes}.
SENT = reading(
    """
local key = base .. ARGV[2]
local total = redis.call('ZCOUNT', key, ARGV[3], ARGV[4])
local members
if ARGV[5] == '1' then
  members = redis.call('ZRANGE', key, ARGV[4], ARGV[3], 'BYSCORE', 'REV', 'LIMIT', ARGV[6], ARGV[7])
else
  members = redis.call('ZRANGE', key, ARGV[3], ARGV[4], 'BYSCORE', 'LIMIT', ARGV[6], ARGV[7])
end
return {epoch, total, fetch(ids_of(members), {})}
"""
)

# Messages in every given index, oldest first, one page (or all when the limit is -1). ARGV:
# root, offset, limit, with exchanges (1/0), index names... Answers {epoch, total, hashes,
# exchanges}.
QUERY = reading(
    """
local keys = {}
for i = 5, #ARGV do keys[#keys + 1] = base .. ARGV[i] end
if #keys == 0 then keys[1] = base .. K.all end
local smallest, size = 1, redis.call('ZCARD', keys[1])
for i = 2, #keys do
  local c = redis.call('ZCARD', keys[i])
  if c < size then smallest, size = i, c end
end
local offset, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
local page, total = {}, 0
if #keys == 1 then
  total = size
  if limit ~= 0 then
    local stop = limit < 0 and -1 or offset + limit - 1
    page = redis.call('ZRANGE', keys[1], offset, stop)
  end
else
  for _, id in ipairs(redis.call('ZRANGE', keys[smallest], 0, -1)) do
    local everywhere = true
    for i = 1, #keys do
      if i ~= smallest and not redis.call('ZSCORE', keys[i], id) then
        everywhere = false
        break
      end
    end
    if everywhere then
      total = total + 1
      if total > offset and (limit < 0 or #page < limit) then page[#page + 1] = id end
    end
  end
end
local hashes = fetch(page, {})
return {epoch, total, hashes, ARGV[4] == '1' and exchanges(hashes) or {}}
"""
)

# A timeline's events in a time range (the newest N when N > 0). ARGV: root, index name, since,
# until, newest. Answers {epoch, members, hashes of the messages they name}.
TIMELINE = reading(
    """
local key = base .. ARGV[2]
local members
if tonumber(ARGV[5]) > 0 then
  members = redis.call('ZRANGE', key, ARGV[4], ARGV[3], 'BYSCORE', 'REV', 'LIMIT', 0, ARGV[5])
else
  members = redis.call('ZRANGE', key, ARGV[3], ARGV[4], 'BYSCORE')
end
local seen, ids = {}, {}
for _, m in ipairs(members) do
  local id = string.match(m, '^[^|]*|(.*)|[^|]*$')
  if id and not seen[id] then
    seen[id] = true
    ids[#ids + 1] = id
  end
end
return {epoch, members, fetch(ids, {})}
"""
)

# What a tenant holds. ARGV: root. Answers {messages, due events, evicted, files (hash)}.
COUNTS = reading(
    """
return {redis.call('ZCARD', base .. K.all), redis.call('ZCARD', base .. K.due),
  redis.call('HGET', base .. K.counts, 'evicted') or '0', redis.call('HGETALL', base .. K.files),
  redis.call('HGETALL', base .. K.delivery_counts)}
"""
)

# Take the lease of running a tenant's due events, and the first of them. ARGV: root, token,
# lease in ms, until, limit. Answers {epoch, member, score, member, score...}; {'BUSY'} while
# another process holds the lease; {} when nothing is due (then the lease is let go at once).
CLAIM_DUE = writing(
    """
local held = redis.call('GET', base .. K.run)
if held and held ~= ARGV[2] then return {'BUSY'} end
local due = redis.call('ZRANGE', base .. K.due, '-inf', ARGV[4], 'BYSCORE', 'LIMIT', 0, ARGV[5],
  'WITHSCORES')
if #due == 0 then
  if held then redis.call('DEL', base .. K.run) end
  return {}
end
redis.call('SET', base .. K.run, ARGV[2], 'PX', ARGV[3])
table.insert(due, 1, epoch)
return due
"""
)

# Let a lease go. ARGV: root, token.
RELEASE = writing(
    """
if redis.call('GET', base .. K.run) == ARGV[2] then redis.call('DEL', base .. K.run) end
return earliest(base .. K.due)
"""
)

# Take deliveries due to be attempted. ARGV: root, now (the tenant's time), lease end (ms), limit.
# Answers {epoch, id, hash, id, hash...}.
CLAIM_READY = writing(
    """
local ids = redis.call('ZRANGE', base .. K.ready, '-inf', ARGV[2], 'BYSCORE', 'LIMIT', 0, ARGV[4])
local out = {epoch}
for _, id in ipairs(ids) do
  local k = base .. K.delivery .. id
  redis.call('ZREM', base .. K.ready, id)
  if redis.call('EXISTS', k) == 1 then
    local was = redis.call('HGET', k, 'st')
    redis.call('ZADD', base .. K.flight, ARGV[3], id)
    redis.call('HSET', k, 'st', 'in_flight', 'by', ARGV[5])
    count(was, -1)
    count('in_flight', 1)
    out[#out + 1] = id
    out[#out + 1] = redis.call('HGETALL', k)
  end
end
return out
"""
)

# An attempt that waited in its process for a free slot starts now: its lease runs from here.
# ARGV: root, epoch, id, the claim's token, lease end (ms). Answers 1 while the claim is still
# that one's (else its lease lapsed and the attempt went to another claim: it is not made here).
EXTEND = writing(
    """
if ARGV[2] ~= epoch then return 0 end
local k = base .. K.delivery .. ARGV[3]
if not redis.call('ZSCORE', base .. K.flight, ARGV[3]) then return 0 end
if redis.call('HGET', k, 'by') ~= ARGV[4] then return 0 end
redis.call('ZADD', base .. K.flight, 'XX', ARGV[5], ARGV[3])
return 1
"""
)

# An attempt's outcome. ARGV: root, epoch, id, attempt number, attempt (JSON), new state, next
# attempt's time ('' none), release the lane (1/0), deliveries kept in the log. Answers
# {status, earliest ready}.
SETTLE = writing(
    """
if ARGV[2] ~= epoch then return {'RESET', ''} end
local id = ARGV[3]
local k = base .. K.delivery .. id
local n = redis.call('HGET', k, 'n')
if not n or tonumber(n) ~= tonumber(ARGV[4]) - 1 then return {'STALE', ''} end
local state, after = ARGV[6], ARGV[7]
redis.call('HSET', k, 'a' .. ARGV[4], ARGV[5], 'n', ARGV[4], 'st', state)
redis.call('HDEL', k, 'm')
redis.call('ZREM', base .. K.flight, id)
count('in_flight', -1)
count(state, 1)
if after ~= '' then
  redis.call('HSET', k, 'na', after, 'due', after)
  redis.call('ZADD', base .. K.ready, after, id)
else
  redis.call('HDEL', k, 'na')
end
if ARGV[8] == '1' then
  local lane = redis.call('HGET', k, 'ln')
  local nextid = redis.call('LPOP', base .. K.lane .. lane)
  while nextid and redis.call('EXISTS', base .. K.delivery .. nextid) == 0 do
    nextid = redis.call('LPOP', base .. K.lane .. lane)
  end
  if nextid then
    redis.call('HSET', base .. K.lanes, lane, nextid)
    local due = redis.call('HGET', base .. K.delivery .. nextid, 'due')
    redis.call('ZADD', base .. K.ready, due, nextid)
  else
    redis.call('HDEL', base .. K.lanes, lane)
  end
end
local most = tonumber(ARGV[9])
while redis.call('ZCARD', base .. K.deliveries) > most do
  local oldest = redis.call('ZRANGE', base .. K.deliveries, 0, 0)[1]
  local st = redis.call('HGET', base .. K.delivery .. oldest, 'st')
  if st ~= 'delivered' and st ~= 'failed' then break end
  redis.call('ZREM', base .. K.deliveries, oldest)
  redis.call('DEL', base .. K.delivery .. oldest)
  count(st, -1)
  count('dropped', 1)
end
return {'OK', earliest(base .. K.ready)}
"""
)

# Send a finished delivery once more. ARGV: root, id, now. Answers {state} (the delivery's, when
# it is not finished; 'gone' when unknown) or {'OK'}.
REDELIVER = writing(
    """
local k = base .. K.delivery .. ARGV[2]
local st = redis.call('HGET', k, 'st')
if not st then return {'gone'} end
if st ~= 'delivered' and st ~= 'failed' then return {st, redis.call('HGET', k, 'na') or ''} end
redis.call('HSET', k, 'm', '1', 'st', 'pending', 'due', ARGV[3])
count(st, -1)
count('pending', 1)
redis.call('ZADD', base .. K.ready, ARGV[3], ARGV[2])
return {'OK', ''}
"""
)

# Attempts whose process went away (their lease ran out) are due again. ARGV: root, now (ms).
# Answers how many.
RECLAIM = writing(
    """
local ids = redis.call('ZRANGE', base .. K.flight, '-inf', ARGV[2], 'BYSCORE')
for _, id in ipairs(ids) do
  local k = base .. K.delivery .. id
  redis.call('ZREM', base .. K.flight, id)
  if redis.call('EXISTS', k) == 1 then
    redis.call('HSET', k, 'st', 'pending')
    count('in_flight', -1)
    count('pending', 1)
    redis.call('ZADD', base .. K.ready, redis.call('HGET', k, 'due'), id)
  end
end
return #ids
"""
)

# Deliveries of the log, oldest first: one page, or (limit -1) all. ARGV: root, offset, limit.
# Answers {total, id, hash, id, hash...}.
DELIVERIES = reading(
    """
local total = redis.call('ZCARD', base .. K.deliveries)
local stop = tonumber(ARGV[3]) < 0 and -1 or tonumber(ARGV[2]) + tonumber(ARGV[3]) - 1
local out = {total}
for _, id in ipairs(redis.call('ZRANGE', base .. K.deliveries, ARGV[2], stop)) do
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGETALL', base .. K.delivery .. id)
end
return out
"""
)

# How many of the tenant's attempts are due by now or under way, and when the next is due. ARGV:
# root, now. Answers {count, earliest ready ('' none)}.
BUSY = reading(
    """
local due = redis.call('ZCOUNT', base .. K.ready, '-inf', ARGV[2])
return {due + redis.call('ZCARD', base .. K.flight), earliest(base .. K.ready)}
"""
)

# A tenant's uploaded files' records, in the order they were uploaded. ARGV: root. Answers
# {id, record, id, record...}.
FILES = reading(
    """
local out = {}
for _, id in ipairs(redis.call('ZRANGE', base .. K.file_order, 0, -1)) do
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGET', base .. K.files, id)
end
return out
"""
)

# A tenant's reset: its epoch moves on (what it held is left behind, swept later). ARGV: root.
# Answers the epoch left behind.
RESET = writing(
    """
redis.call('INCR', root .. R.epoch)
return epoch
"""
)

# The next number in a tenant's order of units of work, under a seed. ARGV: root, seed.
UNIT_NUMBER = writing(
    """
return redis.call('INCR', base .. K.unit_numbers .. ARGV[2])
"""
)

# Keep a surprise (JSON), the newest `cap` of the tenant's. ARGV: root, item, cap.
NOTE = writing(
    """
redis.call('LPUSH', base .. K.surprises, ARGV[2])
redis.call('LTRIM', base .. K.surprises, 0, tonumber(ARGV[3]) - 1)
return 1
"""
)

# A tenant's surprises, newest first. ARGV: root.
NOTED = reading(
    """
return redis.call('LRANGE', base .. K.surprises, 0, -1)
"""
)

# An upload's bytes. ARGV: root, file id, bytes.
KEEP_FILE = writing(
    """
redis.call('SET', base .. K.file_bytes .. ARGV[2], ARGV[3])
return 1
"""
)

# An upload's bytes (false: gone). ARGV: root, file id.
FILE_BYTES = reading(
    """
return redis.call('GET', base .. K.file_bytes .. ARGV[2])
"""
)


# Every script, by name (what Link registers).
SCRIPTS = {name: script for name, script in dict(globals()).items() if isinstance(script, Script)}
