"""The Redis engine's Lua scripts: each touches one partition's keys (and, most, one tenant's of
it), so a Redis Cluster runs it on the partition's shard, and each is one round trip.

ARGV[1] is the partition's root, ARGV[2] the tenant's tag ("" for a script of the partition
alone); the prelude finds their epochs and bases (keys.py names every key, read here as the
tables K, R, Q and P). A tenant's reset moves its epoch on, and a full reset its partition's, so
what they held is left behind at once (swept later) and a reset costs nothing in proportion to
what was held. A unit of work that loaded records carries the epochs it saw ("<pe>:<te>"); its
commit is refused (RESET) if either moved since, as a run of due events is if its lease went to
another process (FENCED).

Each script says what it may do (Redis 7's flags): one that grows the state is refused whole by
a full Redis, before it writes anything; one that keeps the state consistent (settling an
attempt, letting a lease go, evicting) runs even then; one that only reads runs anywhere.
SCRIPTS lists them all.

A partition keeps, beside its tenants' own indexes, indexes across them (every message, every
conversation, every delivery and upload, by time), the counts and figures a global bound and the
reads of every tenant take from it, and the hints of which tenants have work: each written in
the same script as the tenant's own, so they never disagree.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ...core.models import STATUS_RANK
from ...core.stats import LATENCIES
from . import keys


class Kind(enum.Enum):
    GROWS = "#!lua\n"  # refused whole by a full Redis
    KEEPS = "#!lua flags=allow-oom\n"  # runs even when Redis is full
    READS = "#!lua flags=no-writes\n"  # only reads


Grows, Keeps, Reads = Kind.GROWS, Kind.KEEPS, Kind.READS


@dataclass(frozen=True)
class Script:
    source: str
    kind: Kind


_RANKS = ", ".join(f"['{status.value}']={rank}" for status, rank in STATUS_RANK.items())
_LATENCIES = ", ".join(
    f"{{'{name}', '{a.value}', '{b.value}'}}" for name, (a, b) in LATENCIES.items()
)

PRELUDE = (
    keys.lua_table("K", keys.TENANT)
    + keys.lua_table("R", keys.ROOT)
    + keys.lua_table("Q", keys.PARTITION)
    + keys.lua_table("P", keys.PARTITION_ROOT)
    + "local PARTITIONS = "
    + str(keys.PARTITIONS)
    + "\nlocal SEP = '\\"
    + str(ord(keys.SEP))
    + "'\nlocal RANK = {"
    + _RANKS
    + "}\nlocal LAT = {"
    + _LATENCIES
    + "}\n"
    + """
local proot = ARGV[1]
local pe = redis.call('GET', proot .. P.epoch) or '0'
local pbase = proot .. pe .. ':'
local tag = ARGV[2]
local troot = pbase .. tag .. ':'
local te = '0'
if tag ~= '' then te = redis.call('GET', troot .. R.epoch) or '0' end
local base = troot .. te .. ':'
local epoch = pe .. ':' .. te

-- A tenant's record in a partition's index: "<tag>|<te>|<id>".
local function member(id) return tag .. '|' .. te .. '|' .. id end
local function split(m) return string.match(m, '^([^|]*)|([^|]*)|(.*)$') end
-- Whether a member's tenant is still at its epoch (a reset leaves its members behind).
local epochs = {}
local function live(t, e)
  local now = epochs[t]
  if not now then
    now = redis.call('GET', pbase .. t .. ':' .. R.epoch) or '0'
    epochs[t] = now
  end
  return now == e
end
local function base_of(t, e) return pbase .. t .. ':' .. e .. ':' end

local function seqid(seq, id)
  return string.format('%012d|', seq) .. id
end

local function fetch(b, ids, out)
  for _, id in ipairs(ids) do
    out[#out + 1] = redis.call('HGETALL', b .. K.message .. id)
  end
  return out
end

-- The exchanges the hashes name, as {key, bytes, ...}, each once (from the tenant base b).
local function exchanges(b, hashes, out, seen)
  for _, h in ipairs(hashes) do
    for i = 1, #h, 2 do
      if h[i] == 'x' and h[i + 1] ~= '' and not seen[h[i + 1]] then
        seen[h[i + 1]] = true
        out[#out + 1] = h[i + 1]
        out[#out + 1] = redis.call('GET', b .. K.exchange .. h[i + 1]) or ''
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

-- Increments gathered per hash and made once each at the end (a call's messages mostly share
-- their counters).
local bumps, border = {}, {}
local function bump(key, field, by)
  local t = bumps[key]
  if not t then
    t = {}
    bumps[key] = t
    border[#border + 1] = key
  end
  t[field] = (t[field] or 0) + by
end
local function flush_bumps()
  for _, key in ipairs(border) do
    for f, n in pairs(bumps[key]) do
      if n ~= 0 then
        if n == math.floor(n) then
          redis.call('HINCRBY', key, f, n)
        else
          redis.call('HINCRBYFLOAT', key, f, string.format('%.17g', n))
        end
      end
    end
  end
  bumps, border = {}, {}
end

-- A tenant's deliveries per state, and its partition's.
local function count(b, state, by)
  bump(b .. K.delivery_counts, state, by)
  bump(pbase .. Q.counts, state, by)
end

-- The figures of a message of provider p and agent a (stats: per status, and each latency's
-- values rounded to three significant digits), at each level a read may ask for, in its tenant
-- (base b) and its partition.
local levels_known = {}
local function figure(b, p, a, field, by)
  local one = 'p' .. SEP .. p
  local two = 'a' .. SEP .. p .. SEP .. a
  for _, level in ipairs({'*', one, two}) do
    bump(b .. K.stats .. level, field, by)
    bump(pbase .. Q.stats .. level, field, by)
    if not levels_known[b .. level] then
      levels_known[b .. level] = true
      redis.call('SADD', b .. K.stat_levels, level)
    end
  end
end
local function sample(b, p, a, name, value, by)
  if value < 0 then value = 0 end
  figure(b, p, a, 'l' .. SEP .. name .. SEP .. string.format('%.3g', value), by)
  figure(b, p, a, 'l' .. SEP .. name .. SEP .. '+', value * by)
end
-- A message's first event of a type: the latencies it completes.
local function first_event(b, k, etype, t, p, a)
  local known = redis.call('HMGET', k, 'f' .. etype)
  if known[1] then return end
  redis.call('HSET', k, 'f' .. etype, t)
  if redis.call('HGET', k, 'u') == '1' then return end
  for _, lat in ipairs(LAT) do
    local other = nil
    if lat[2] == etype then other = lat[3] elseif lat[3] == etype then other = lat[2] end
    if other then
      local at = redis.call('HGET', k, 'f' .. other)
      if at then
        local t0, t1 = tonumber(at), tonumber(t)
        if lat[2] == etype then t0, t1 = tonumber(t), tonumber(at) end
        sample(b, p, a, lat[1], t1 - t0, 1)
      end
    end
  end
end
-- Everything a message counts for, taken back (it is evicted).
local function unfigure(b, k, p, a, s)
  if redis.call('HGET', k, 'u') == '1' then return end
  figure(b, p, a, 's' .. SEP .. s, -1)
  for _, lat in ipairs(LAT) do
    local at = redis.call('HMGET', k, 'f' .. lat[2], 'f' .. lat[3])
    if at[1] and at[2] then sample(b, p, a, lat[1], tonumber(at[2]) - tonumber(at[1]), -1) end
  end
end

local function set_status(b, id, k, new)
  local f = redis.call('HMGET', k, 's', 'q', 'p', 'a', 'u')
  local old = f[1]
  if old == new then return end
  redis.call('ZREM', b .. K.status .. old, id)
  redis.call('ZADD', b .. K.status .. new, f[2], id)
  redis.call('HSET', k, 's', new)
  if f[5] ~= '1' then
    figure(b, f[3], f[4], 's' .. SEP .. old, -1)
    figure(b, f[3], f[4], 's' .. SEP .. new, 1)
  end
end

-- A message gone for good (retention): out of every index of its tenant (base b, tag t, epoch
-- e) and of its partition, its figures taken back.
local function evict(b, t, e, id)
  local k = b .. K.message .. id
  local f = redis.call('HMGET', k, 'q', 'p', 'a', 'ph', 'b', 'ex', 'u', 'x', 's', 'n', 'w', 'ca')
  redis.call('ZREM', b .. K.all, id)
  if not f[1] then return false end
  local q, p, a, ph, bt, ex, u, x, s, n, w = unpack(f)
  local conv = p .. SEP .. a .. SEP .. ph
  unfigure(b, k, p, a, s)
  redis.call('ZREM', b .. K.provider .. p, id)
  redis.call('ZREM', b .. K.agent .. p .. SEP .. a, id)
  redis.call('ZREM', b .. K.phone .. ph, id)
  redis.call('ZREM', b .. K.conversation .. conv, id)
  if redis.call('ZCARD', b .. K.conversation .. conv) == 0 then
    local cw = redis.call('HGET', b .. K.newest, conv) or ''
    redis.call('HDEL', b .. K.newest, conv)
    redis.call('ZREM', b .. K.conversations, cw .. '|' .. conv)
    redis.call('ZREM', pbase .. Q.conversations, cw .. '|' .. t .. '|' .. e .. '|' .. conv)
    redis.call('ZREM', pbase .. Q.conversation .. conv, t .. '|' .. e)
    bump(pbase .. Q.counts, 'conversations', -1)
  end
  if u ~= '1' then redis.call('ZREM', b .. K.sent .. p, seqid(tonumber(q), id)) end
  redis.call('ZREM', b .. K.status .. s, id)
  if bt and bt ~= '' then redis.call('LREM', b .. K.batch .. bt, 1, id) end
  if ex and ex ~= '' then redis.call('LREM', b .. K.external .. p .. SEP .. ex, 1, id) end
  for i = 1, tonumber(n) do
    local tm = redis.call('HGET', k, 't' .. i)
    if tm then
      redis.call('ZREM', b .. K.timeline .. p .. SEP .. a, tm)
      redis.call('ZREM', b .. K.phone_timeline .. conv, tm)
    end
  end
  if x and x ~= '' then
    if redis.call('HINCRBY', b .. K.exchange_refs, x, -1) < 0 then
      redis.call('HDEL', b .. K.exchange_refs, x)
      redis.call('DEL', b .. K.exchange .. x)
    end
  end
  redis.call('ZREM', pbase .. Q.messages, w .. '|' .. t .. '|' .. e .. '|' .. id)
  redis.call('HDEL', pbase .. Q.where, id)
  redis.call('DEL', k)
  bump(pbase .. Q.counts, 'messages', -1)
  bump(pbase .. Q.counts, 'evicted', 1)
  return true
end
"""
)


def script(kind: Kind, body: str) -> Script:
    return Script(kind.value + PRELUDE + body, kind)


# What every process agrees on, kept in each partition (join.py): made if absent. ARGV: root,
# '', a fresh generation, the config, the state's start. Answers {generation, start, config}.
JOIN = script(
    Keeps,
    """
if redis.call('EXISTS', proot .. P.meta) == 0 then
  redis.call('HSET', proot .. P.meta, 'generation', ARGV[3], 'config', ARGV[4], 'epoch', ARGV[5])
end
return redis.call('HMGET', proot .. P.meta, 'generation', 'epoch', 'config')
""",
)

# Apply units of work of one tenant, each all or none. ARGV: root, tag, the call's token ('' none),
# the partition's number, the tenant's name, then the units (msgpack: [[epochs it loaded at
# ('' none), fence token ('' none), ops], ...]). A unit whose epochs are not the tenant's (it or
# its partition was reset since) is refused RESET, one whose fence is not the lease's FENCED, one
# with an op of the wrong shape MALFORMED (before anything is written); the others are applied in
# order. Answers {each unit's status, earliest due, earliest ready, the partition's messages, its
# deliveries}. A call whose token was applied already (a retry after its answer was lost) is
# answered as it was, and applies nothing again.
#
# Ops: {'X', key, exchange} {'M', id, record, wall ns, status, created, provider, agent, phone,
# batch, client's id, user message (1/0), exchange key, {{event, time, type}...}} {'E', id,
# event, time, status ('' unchanged), type} {'S', id, status} {'D', time, due event}
# {'R', member} {'C', record, lane, due, wall us, message id, provider, agent, phone}
# {'F', id, record, wall}.
COMMIT = script(
    Grows,
    """
local done = ARGV[3] ~= '' and proot .. P.done .. ARGV[3] or nil
local function answer(statuses)
  local counts = redis.call('HMGET', pbase .. Q.counts, 'messages', 'log')
  return {statuses, earliest(base .. K.due), earliest(base .. K.ready), counts[1] or '0',
    counts[2] or '0'}
end
if done then
  local said = redis.call('GET', done)
  if said then return answer(cmsgpack.unpack(said)) end
end
local partition = tonumber(ARGV[4])
local units = cmsgpack.unpack(ARGV[6])
local held = nil

-- Index entries gather per sorted set and go in one ZADD each (a call's sends mostly share their
-- sets); they go before anything that reads or moves an index (an event, a status).
local adds, order = {}, {}
local function zadd(key, score, m)
  local pending = adds[key]
  if not pending then
    pending = {}
    adds[key] = pending
    order[#order + 1] = key
  end
  pending[#pending + 1] = score
  pending[#pending + 1] = m
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

-- Which units apply, and how many numbers of each counter they take (one INCRBY each). A unit
-- with an op of the wrong shape is refused by itself (MALFORMED) before anything is written.
local ARITY = {X = 3, M = 14, E = 6, S = 3, D = 3, R = 2, C = 9, F = 4}
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
local mine = tag .. '|' .. te

-- A conversation's newest message: its place in the tenant's and the partition's index of
-- conversations moves to the message's (creation time, then wall time), if it is newer.
local function newest(conv, ca, w)
  local held = redis.call('HGET', base .. K.newest, conv)
  if held then
    local at = tonumber(redis.call('ZSCORE', base .. K.conversations, held .. '|' .. conv))
    if at and (at > tonumber(ca) or (at == tonumber(ca) and held > w)) then return end
    redis.call('ZREM', base .. K.conversations, held .. '|' .. conv)
    redis.call('ZREM', pbase .. Q.conversations, held .. '|' .. mine .. '|' .. conv)
  else
    bump(pbase .. Q.counts, 'conversations', 1)
  end
  redis.call('HSET', base .. K.newest, conv, w)
  redis.call('ZADD', base .. K.conversations, ca, w .. '|' .. conv)
  redis.call('ZADD', pbase .. Q.conversations, ca, w .. '|' .. mine .. '|' .. conv)
  redis.call('ZADD', pbase .. Q.conversation .. conv, 'GT', ca, mine)
end

local statuses, messages, events, dues, calls = {}, 0, 0, 0, 0
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
      elseif kind == 'C' then
        calls = calls + 1
      end
    end
  end
end
local q = messages > 0 and redis.call('INCRBY', base .. K.seq, messages) - messages or 0
local e = events > 0 and redis.call('INCRBY', base .. K.event_seq, events) - events or 0
local d = dues > 0 and redis.call('INCRBY', base .. K.due_seq, dues) - dues or 0
local c = calls > 0 and redis.call('INCRBY', proot .. P.delivery_seq, calls) - calls or 0
if messages + calls > 0 or dues > 0 then
  redis.call('HSET', pbase .. Q.tenants, tag, ARGV[5])
end
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
        local conv = p .. SEP .. a .. SEP .. ph
        q = q + 1
        local fields = {'r', op[3], 'w', op[4], 'q', q, 's', s, 'n', #happened, 'ca', ca,
          'p', p, 'a', a, 'ph', ph, 'b', b, 'ex', ex, 'u', user, 'x', x}
        local tl = base .. K.timeline .. p .. SEP .. a
        local tp = base .. K.phone_timeline .. conv
        local firsts = {}
        for i, ev in ipairs(happened) do
          e = e + 1
          local t = string.format('%012d|%s|%d', e, id, i)
          fields[#fields + 1] = 'e' .. i
          fields[#fields + 1] = ev[1]
          fields[#fields + 1] = 't' .. i
          fields[#fields + 1] = t
          zadd(tl, ev[2], t)
          zadd(tp, ev[2], t)
          if not firsts[ev[3]] then firsts[ev[3]] = ev[2] end
        end
        for i = 1, #fields, 1000 do
          redis.call('HSET', k, unpack(fields, i, math.min(i + 999, #fields)))
        end
        zadd(base .. K.all, q, id)
        zadd(base .. K.provider .. p, q, id)
        zadd(base .. K.agent .. p .. SEP .. a, q, id)
        zadd(base .. K.phone .. ph, q, id)
        zadd(base .. K.conversation .. conv, q, id)
        if user ~= '1' then
          zadd(base .. K.sent .. p, ca, seqid(q, id))
          figure(base, p, a, 's' .. SEP .. s, 1)
        end
        zadd(base .. K.status .. s, q, id)
        if b ~= '' then redis.call('RPUSH', base .. K.batch .. b, id) end
        if ex ~= '' then redis.call('RPUSH', base .. K.external .. p .. SEP .. ex, id) end
        if x ~= '' then xnamed[x] = (xnamed[x] or 0) + 1 end
        newest(conv, ca, op[4])
        -- Scored alike: the members' order (their wall time first) is the order stored.
        zadd(pbase .. Q.messages, 0, op[4] .. '|' .. mine .. '|' .. id)
        redis.call('HSET', pbase .. Q.where, id, mine)
        bump(pbase .. Q.counts, 'messages', 1)
        for _, ev in ipairs(happened) do
          if firsts[ev[3]] == ev[2] then
            firsts[ev[3]] = nil
            first_event(base, k, ev[3], ev[2], p, a)
          end
        end
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
          first_event(base, k, op[6], op[4], f[1], f[2])
          if status ~= '' and RANK[status] > RANK[f[4]] then set_status(base, id, k, status) end
        end
      elseif kind == 'S' then
        local k = base .. K.message .. op[2]
        flush()
        if redis.call('EXISTS', k) == 1 then set_status(base, op[2], k, op[3]) end
      elseif kind == 'D' then
        d = d + 1
        zadd(base .. K.due, op[2], string.format('%012d|', d) .. op[3])
        bump(pbase .. Q.counts, 'scheduled', 1)
      elseif kind == 'R' then
        if redis.call('ZREM', base .. K.due, op[2]) == 1 then
          bump(pbase .. Q.counts, 'scheduled', -1)
        end
      elseif kind == 'C' then
        c = c + 1
        local id = tostring(c * PARTITIONS + partition)
        local lane, due, mid = op[3], op[4], op[6]
        local k = base .. K.delivery .. id
        redis.call('HSET', k, 'id', id, 'r', op[2], 'st', 'pending', 'n', 0, 'due', due,
          'ln', lane, 'p', op[7], 'a', op[8], 'ph', op[9], 'mid', mid)
        redis.call('ZADD', base .. K.deliveries, id, id)
        if mid ~= '' then redis.call('RPUSH', base .. K.by_message .. mid, id) end
        redis.call('ZADD', pbase .. Q.deliveries, op[5], id)
        redis.call('HSET', pbase .. Q.delivery_where, id, mine)
        count(base, 'pending', 1)
        bump(pbase .. Q.counts, 'log', 1)
        if redis.call('HSETNX', base .. K.lanes, lane, id) == 1 then
          redis.call('ZADD', base .. K.ready, due, id)
        else
          redis.call('RPUSH', base .. K.lane .. lane, id)
        end
      elseif kind == 'F' then
        redis.call('HSET', base .. K.files, op[2], op[3])
        redis.call('ZADD', base .. K.file_order, op[4], op[2])
        redis.call('ZADD', pbase .. Q.files, op[4], mine .. '|' .. op[2])
        redis.call('HSET', pbase .. Q.file_where, op[2], mine)
      else
        return redis.error_reply('unknown op ' .. tostring(kind))  -- (MALFORMED: never here)
      end
    end
  end
end

flush()
flush_bumps()
for x, named in pairs(xnamed) do
  local beyond = xfresh[x] and named - 1 or named
  if beyond > 0 then redis.call('HINCRBY', base .. K.exchange_refs, x, beyond) end
end
local due, ready = earliest(base .. K.due), earliest(base .. K.ready)
if dues > 0 and due ~= '' then redis.call('ZADD', pbase .. Q.due, 'LT', due, tag) end
if calls > 0 and ready ~= '' then redis.call('ZADD', pbase .. Q.ready, 'LT', ready, tag) end
if done then redis.call('SET', done, cmsgpack.pack(statuses), 'PX', 60000) end
return answer(statuses)
""",
)

# Messages by id. ARGV: root, tag, with exchanges (1/0), ids... Answers {epochs, hashes,
# exchanges}.
FETCH = script(
    Reads,
    """
local ids = {}
for i = 4, #ARGV do ids[#ids + 1] = ARGV[i] end
local hashes = fetch(base, ids, {})
return {epoch, hashes, ARGV[3] == '1' and exchanges(base, hashes, {}, {}) or {}}
""",
)

# A message of any tenant of the partition, by id. ARGV: root, '', id. Answers {hashes,
# exchanges} (none: not held).
MESSAGE_ANY = script(
    Reads,
    """
local where = redis.call('HGET', pbase .. Q.where, ARGV[3])
if not where then return {{}, {}} end
local t, e = string.match(where, '^([^|]*)|(.*)$')
if not live(t, e) then return {{}, {}} end
local b = base_of(t, e)
local hashes = fetch(b, {ARGV[3]}, {})
if #hashes[1] == 0 then return {{}, {}} end
return {hashes, exchanges(b, hashes, {}, {})}
""",
)

# Messages of the partition's tenants named as members ("<tag>|<te>|<id>"). ARGV: root, '', with
# exchanges (1/0), members... Answers {hashes, exchanges} (a member left behind: an empty hash).
FETCH_ANY = script(
    Reads,
    """
local hashes, blobs, seen = {}, {}, {}
for i = 4, #ARGV do
  local t, e, id = split(ARGV[i])
  if live(t, e) then
    local b = base_of(t, e)
    local found = fetch(b, {id}, {})
    hashes[#hashes + 1] = found[1]
    if ARGV[3] == '1' then exchanges(b, found, blobs, seen) end
  else
    hashes[#hashes + 1] = {}
  end
end
return {hashes, blobs}
""",
)

# A list's messages (a batch, a client id's). ARGV: root, tag, list name. Answers {epochs,
# hashes}.
LISTED = script(
    Reads,
    """
return {epoch, fetch(base, redis.call('LRANGE', base .. ARGV[3], 0, -1), {})}
""",
)

# The newest message sent (not merely scheduled) in a conversation. ARGV: root, tag, its index
# name. Answers {epochs, hashes}.
LATEST = script(
    Reads,
    """
local members = redis.call('ZREVRANGE', base .. ARGV[3], 0, -1)
for _, id in ipairs(members) do
  if redis.call('HGET', base .. K.message .. id, 's') ~= 'scheduled' then
    return {epoch, fetch(base, {id}, {})}
  end
end
return {epoch, {}}
""",
)

# The newest message sent in a conversation by any tenant of the partition. ARGV: root, '',
# conversation (provider SEP agent SEP phone). Answers {hashes} (one at most).
LATEST_ANY = script(
    Reads,
    """
local best, best_at, best_w, best_base = nil, nil, nil, nil
for _, m in ipairs(redis.call('ZREVRANGE', pbase .. Q.conversation .. ARGV[3], 0, -1)) do
  local t, e = string.match(m, '^([^|]*)|(.*)$')
  if live(t, e) then
    local b = base_of(t, e)
    for _, id in ipairs(redis.call('ZREVRANGE', b .. K.conversation .. ARGV[3], 0, -1)) do
      local f = redis.call('HMGET', b .. K.message .. id, 's', 'ca', 'w')
      if f[1] and f[1] ~= 'scheduled' then
        local at = tonumber(f[2])
        if not best_at or at > best_at or (at == best_at and f[3] > best_w) then
          best, best_at, best_w, best_base = id, at, f[3], b
        end
        break
      end
    end
  end
end
if not best then return {} end
return fetch(best_base, {best}, {})
""",
)

# A provider's messages sent in a time range, one page. ARGV: root, tag, index name, since,
# until, newest first (1/0), offset, limit. Answers {epochs, total, hashes}.
SENT = script(
    Reads,
    """
local key = base .. ARGV[3]
local total = redis.call('ZCOUNT', key, ARGV[4], ARGV[5])
local members
if ARGV[6] == '1' then
  members = redis.call('ZRANGE', key, ARGV[5], ARGV[4], 'BYSCORE', 'REV', 'LIMIT', ARGV[7], ARGV[8])
else
  members = redis.call('ZRANGE', key, ARGV[4], ARGV[5], 'BYSCORE', 'LIMIT', ARGV[7], ARGV[8])
end
return {epoch, total, fetch(base, ids_of(members), {})}
""",
)

# A tenant's messages in every given index, oldest first, one page (or all when the limit is
# -1). ARGV: root, tag, offset, limit, with exchanges (1/0), index names... Answers {epochs,
# total, hashes, exchanges}.
QUERY = script(
    Reads,
    """
local keys = {}
for i = 6, #ARGV do keys[#keys + 1] = base .. ARGV[i] end
if #keys == 0 then keys[1] = base .. K.all end
local smallest, size = 1, redis.call('ZCARD', keys[1])
for i = 2, #keys do
  local c = redis.call('ZCARD', keys[i])
  if c < size then smallest, size = i, c end
end
local offset, limit = tonumber(ARGV[3]), tonumber(ARGV[4])
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
local hashes = fetch(base, page, {})
return {epoch, total, hashes, ARGV[5] == '1' and exchanges(base, hashes, {}, {}) or {}}
""",
)

# The partition's messages that match, from one end: how many match in all, and up to `want`
# of them (-1 all) as {member, score} in the order of every tenant's messages (the order
# stored: the wall time each was made at, which leads its member; every score is 0). ARGV:
# root, '', newest first (1/0), want, provider, agent, phone, status ('' any). Answers {total,
# member, score, ...}.
SCAN_MESSAGES = script(
    Reads,
    """
local newest, want = ARGV[3] == '1', tonumber(ARGV[4])
local p, a, ph, st = ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local filtered = p ~= '' or a ~= '' or ph ~= '' or st ~= ''
local out, found = {0}, 0
local function take(m, score)
  found = found + 1
  if want < 0 or found <= want then
    out[#out + 1] = m
    out[#out + 1] = score
  end
end
if p ~= '' and a ~= '' and ph ~= '' then
  -- One conversation: its tenants' own indexes (a few), not the partition's.
  local conv = p .. SEP .. a .. SEP .. ph
  local rows = {}
  for _, tm in ipairs(redis.call('ZRANGE', pbase .. Q.conversation .. conv, 0, -1)) do
    local t, e = string.match(tm, '^([^|]*)|(.*)$')
    if live(t, e) then
      local b = base_of(t, e)
      for _, id in ipairs(redis.call('ZRANGE', b .. K.conversation .. conv, 0, -1)) do
        local f = redis.call('HMGET', b .. K.message .. id, 'w', 'ca', 's')
        if f[1] and (st == '' or f[3] == st) then
          rows[#rows + 1] = f[1] .. '|' .. t .. '|' .. e .. '|' .. id
        end
      end
    end
  end
  table.sort(rows)  -- (the wall time first: the order stored)
  local first, last, step = 1, #rows, 1
  if newest then first, last, step = #rows, 1, -1 end
  for i = first, last, step do take(rows[i], '0') end
  out[1] = found
  return out
end
local key = pbase .. Q.messages
local size = redis.call('ZCARD', key)
local at = 0
while at < size and (filtered or want < 0 or found < want) do
  local slice
  if newest then
    slice = redis.call('ZREVRANGE', key, at, at + 199, 'WITHSCORES')
  else
    slice = redis.call('ZRANGE', key, at, at + 199, 'WITHSCORES')
  end
  if #slice == 0 then break end
  at = at + 200
  for i = 1, #slice, 2 do
    local w, t, e, id = string.match(slice[i], '^([^|]*)|([^|]*)|([^|]*)|(.*)$')
    if live(t, e) then
      if filtered then
        local f = redis.call('HMGET', base_of(t, e) .. K.message .. id, 'p', 'a', 'ph', 's')
        if f[1] and (p == '' or f[1] == p) and (a == '' or f[2] == a)
            and (ph == '' or f[3] == ph) and (st == '' or f[4] == st) then
          take(slice[i], slice[i + 1])
        end
      else
        take(slice[i], slice[i + 1])
      end
    end
  end
end
if filtered then
  out[1] = found
else
  out[1] = redis.call('HGET', pbase .. Q.counts, 'messages') or '0'
end
return out
""",
)

# A timeline's events in a time range (the newest N when N > 0). ARGV: root, tag, index name,
# since, until, newest. Answers {epochs, members, hashes of the messages they name}.
TIMELINE = script(
    Reads,
    """
local key = base .. ARGV[3]
local members
if tonumber(ARGV[6]) > 0 then
  members = redis.call('ZRANGE', key, ARGV[5], ARGV[4], 'BYSCORE', 'REV', 'LIMIT', 0, ARGV[6])
else
  members = redis.call('ZRANGE', key, ARGV[4], ARGV[5], 'BYSCORE')
end
local seen, ids = {}, {}
for _, m in ipairs(members) do
  local id = string.match(m, '^[^|]*|(.*)|[^|]*$')
  if id and not seen[id] then
    seen[id] = true
    ids[#ids + 1] = id
  end
end
return {epoch, members, fetch(base, ids, {})}
""",
)

# What the partition holds. ARGV: root, ''. Answers {counts (a hash), tenants}.
COUNTS = script(
    Reads,
    """
return {redis.call('HGETALL', pbase .. Q.counts), redis.call('HLEN', pbase .. Q.tenants)}
""",
)

# The figures of a tenant's messages (tag given) or of the partition's, at one level ('*',
# 'p' SEP provider, 'a' SEP provider SEP agent). ARGV: root, tag, level. Answers the hash.
STATS = script(
    Reads,
    """
if tag ~= '' then return redis.call('HGETALL', base .. K.stats .. ARGV[3]) end
return redis.call('HGETALL', pbase .. Q.stats .. ARGV[3])
""",
)

# Conversations of a tenant (tag given) or of every tenant of the partition, from one end: how
# many match, and up to `want` of them. ARGV: root, tag, newest first (1/0), want, provider,
# agent, phone ('' any). Answers {total, tenant, conversation, messages, newest id, newest
# message's time, its wall time, ...}.
CONVERSATIONS = script(
    Reads,
    """
local newest, want = ARGV[3] == '1', tonumber(ARGV[4])
local p, a, ph = ARGV[5], ARGV[6], ARGV[7]
local filtered = p ~= '' or a ~= '' or ph ~= ''
local key = tag ~= '' and base .. K.conversations or pbase .. Q.conversations
local names = {}
local out, found = {0}, 0
local size = redis.call('ZCARD', key)
local at = 0
while at < size and (filtered or want < 0 or found < want) do
  local slice
  if newest then
    slice = redis.call('ZREVRANGE', key, at, at + 199, 'WITHSCORES')
  else
    slice = redis.call('ZRANGE', key, at, at + 199, 'WITHSCORES')
  end
  if #slice == 0 then break end
  at = at + 200
  for i = 1, #slice, 2 do
    local t, e, conv = tag, te, nil
    if tag == '' then
      t, e, conv = string.match(slice[i], '^[^|]*|([^|]*)|([^|]*)|(.*)$')
    else
      conv = string.match(slice[i], '^[^|]*|(.*)$')
    end
    if live(t, e) then
      local cp, ca, cph = string.match(conv, '^([^\\31]*)\\31([^\\31]*)\\31(.*)$')
      if (p == '' or cp == p) and (a == '' or ca == a) and (ph == '' or cph == ph) then
        found = found + 1
        if want < 0 or found <= want then
          local b = base_of(t, e)
          if not names[t] then names[t] = redis.call('HGET', pbase .. Q.tenants, t) or '' end
          out[#out + 1] = names[t]
          out[#out + 1] = conv
          out[#out + 1] = redis.call('ZCARD', b .. K.conversation .. conv)
          out[#out + 1] = redis.call('ZREVRANGE', b .. K.conversation .. conv, 0, 0)[1] or ''
          out[#out + 1] = slice[i + 1]
          out[#out + 1] = string.match(slice[i], '^([^|]*)|')
        end
      end
    end
  end
end
if filtered then
  out[1] = found
elseif tag ~= '' then
  out[1] = size
else
  out[1] = redis.call('HGET', pbase .. Q.counts, 'conversations') or '0'
end
return out
""",
)

# The tenants of the partition with due events, by their earliest. ARGV: root, ''. Answers
# {name, earliest, ...}.
DUE_HINTS = script(
    Reads,
    """
local out = {}
local found = redis.call('ZRANGE', pbase .. Q.due, 0, -1, 'WITHSCORES')
for i = 1, #found, 2 do
  local name = redis.call('HGET', pbase .. Q.tenants, found[i])
  if name then
    out[#out + 1] = name
    out[#out + 1] = found[i + 1]
  end
end
return out
""",
)

# The hint of a tenant's due events, as its schedule says (none: no hint).
HINT = """
local function hint_due()
  local first = earliest(base .. K.due)
  if first == '' then
    redis.call('ZREM', pbase .. Q.due, tag)
  else
    redis.call('ZADD', pbase .. Q.due, first, tag)
  end
  return first
end
local function hint_ready()
  local first = earliest(base .. K.ready)
  if first == '' then
    redis.call('ZREM', pbase .. Q.ready, tag)
  else
    redis.call('ZADD', pbase .. Q.ready, first, tag)
  end
  return first
end
"""

# Take the lease of running a tenant's due events, and the first of them. ARGV: root, tag,
# token, lease in ms, until, limit. Answers {epochs, member, score, member, score...}; {'BUSY'}
# while another process holds the lease; {} when nothing is due (then the lease is let go).
CLAIM_DUE = script(
    Keeps,
    HINT
    + """
local held = redis.call('GET', base .. K.run)
if held and held ~= ARGV[3] then return {'BUSY'} end
local due = redis.call('ZRANGE', base .. K.due, '-inf', ARGV[5], 'BYSCORE', 'LIMIT', 0, ARGV[6],
  'WITHSCORES')
if #due == 0 then
  if held then redis.call('DEL', base .. K.run) end
  hint_due()
  return {}
end
redis.call('SET', base .. K.run, ARGV[3], 'PX', ARGV[4])
table.insert(due, 1, epoch)
return due
""",
)

# Let a lease go. ARGV: root, tag, token. Answers the earliest due event's time ('' none).
RELEASE = script(
    Keeps,
    HINT
    + """
if redis.call('GET', base .. K.run) == ARGV[3] then redis.call('DEL', base .. K.run) end
return hint_due()
""",
)

# The tenants of the partition with attempts to make, by the earliest. ARGV: root, ''. Answers
# {name, earliest, ...} (the first 256).
READY_HINTS = script(
    Reads,
    """
local out = {}
local found = redis.call('ZRANGE', pbase .. Q.ready, 0, 255, 'WITHSCORES')
for i = 1, #found, 2 do
  local name = redis.call('HGET', pbase .. Q.tenants, found[i])
  if name then
    out[#out + 1] = name
    out[#out + 1] = found[i + 1]
  end
end
return out
""",
)

# Take deliveries due to be attempted. ARGV: root, tag, now (the tenant's time), lease end (ms),
# limit, the claim's token. Answers {epochs, id, hash, id, hash...}.
CLAIM_READY = script(
    Keeps,
    HINT
    + """
local ids = redis.call('ZRANGE', base .. K.ready, '-inf', ARGV[3], 'BYSCORE', 'LIMIT', 0, ARGV[5])
local out = {epoch}
for _, id in ipairs(ids) do
  local k = base .. K.delivery .. id
  redis.call('ZREM', base .. K.ready, id)
  local was = redis.call('HGET', k, 'st')
  if was then
    redis.call('ZADD', pbase .. Q.flight, ARGV[4], member(id))
    redis.call('HSET', k, 'st', 'in_flight', 'by', ARGV[6])
    count(base, was, -1)
    count(base, 'in_flight', 1)
    out[#out + 1] = id
    out[#out + 1] = redis.call('HGETALL', k)
  end
end
flush_bumps()
hint_ready()
return out
""",
)

# An attempt that waited in its process for a free slot starts now: its lease runs from here.
# ARGV: root, tag, epochs, id, the claim's token, lease end (ms). Answers 1 while the claim is
# still that one's (else its lease lapsed and the attempt went to another claim).
EXTEND = script(
    Keeps,
    """
if ARGV[3] ~= epoch then return 0 end
if not redis.call('ZSCORE', pbase .. Q.flight, member(ARGV[4])) then return 0 end
if redis.call('HGET', base .. K.delivery .. ARGV[4], 'by') ~= ARGV[5] then return 0 end
redis.call('ZADD', pbase .. Q.flight, 'XX', ARGV[6], member(ARGV[4]))
return 1
""",
)

# An attempt's outcome. ARGV: root, tag, epochs, id, attempt number, attempt (JSON), new state,
# next attempt's time ('' none), release the lane (1/0). Answers {status, earliest ready}.
SETTLE = script(
    Keeps,
    HINT
    + """
if ARGV[3] ~= epoch then return {'RESET', ''} end
local id = ARGV[4]
local k = base .. K.delivery .. id
local n = redis.call('HGET', k, 'n')
if not n or tonumber(n) ~= tonumber(ARGV[5]) - 1 then return {'STALE', ''} end
local state, after = ARGV[7], ARGV[8]
redis.call('HSET', k, 'a' .. ARGV[5], ARGV[6], 'n', ARGV[5], 'st', state)
redis.call('HDEL', k, 'm')
redis.call('ZREM', pbase .. Q.flight, member(id))
count(base, 'in_flight', -1)
count(base, state, 1)
if after ~= '' then
  redis.call('HSET', k, 'na', after, 'due', after)
  redis.call('ZADD', base .. K.ready, after, id)
else
  redis.call('HDEL', k, 'na')
end
if ARGV[9] == '1' then
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
flush_bumps()
return {'OK', hint_ready()}
""",
)

# Send a finished delivery once more. ARGV: root, '', id, now. Answers {'OK', tenant} or
# {state, next attempt's time} (not finished) or {'gone'}.
REDELIVER = script(
    Keeps,
    """
local where = redis.call('HGET', pbase .. Q.delivery_where, ARGV[3])
if not where then return {'gone'} end
local t, e = string.match(where, '^([^|]*)|(.*)$')
if not live(t, e) then return {'gone'} end
local b = base_of(t, e)
local k = b .. K.delivery .. ARGV[3]
local st = redis.call('HGET', k, 'st')
if not st then return {'gone'} end
if st ~= 'delivered' and st ~= 'failed' then return {st, redis.call('HGET', k, 'na') or ''} end
redis.call('HSET', k, 'm', '1', 'st', 'pending', 'due', ARGV[4])
count(b, st, -1)
count(b, 'pending', 1)
redis.call('ZADD', b .. K.ready, ARGV[4], ARGV[3])
redis.call('ZADD', pbase .. Q.ready, 'LT', ARGV[4], t)
flush_bumps()
return {'OK', redis.call('HGET', pbase .. Q.tenants, t) or ''}
""",
)

# Attempts whose lease ran out are due again, but not while the process that claimed them
# still beats (it is alive, waiting for Redis to take their outcome: it settles them itself).
# ARGV: root, '', now (ms), ms a beat stays fresh. Answers the names of the tenants woken.
RECLAIM = script(
    Keeps,
    """
local ids = redis.call('ZRANGE', pbase .. Q.flight, '-inf', ARGV[3], 'BYSCORE')
local t0 = redis.call('TIME')
local now = t0[1] * 1000 + math.floor(t0[2] / 1000)
local woken, named = {}, {}
for _, m in ipairs(ids) do
  local t, e, id = split(m)
  if not live(t, e) then
    redis.call('ZREM', pbase .. Q.flight, m)
  else
    local b = base_of(t, e)
    local k = b .. K.delivery .. id
    local by = redis.call('HGET', k, 'by') or ''
    local process = string.match(by, '^([^:]*)') or ''
    local beat = tonumber(redis.call('HGET', proot .. P.heard, 'b:' .. process) or '0')
    if redis.call('EXISTS', k) == 0 then
      redis.call('ZREM', pbase .. Q.flight, m)
    elseif now - beat > tonumber(ARGV[4]) then
      redis.call('ZREM', pbase .. Q.flight, m)
      redis.call('HSET', k, 'st', 'pending')
      count(b, 'in_flight', -1)
      count(b, 'pending', 1)
      local due = redis.call('HGET', k, 'due')
      redis.call('ZADD', b .. K.ready, due, id)
      redis.call('ZADD', pbase .. Q.ready, 'LT', due, t)
      if not named[t] then
        named[t] = true
        woken[#woken + 1] = redis.call('HGET', pbase .. Q.tenants, t) or ''
      end
    end
  end
end
flush_bumps()
return woken
""",
)

# A tenant's deliveries, oldest first: one page, or (limit -1) all. ARGV: root, tag, offset,
# limit. Answers {total, id, hash, id, hash...}.
DELIVERIES = script(
    Reads,
    """
local total = redis.call('ZCARD', base .. K.deliveries)
local stop = tonumber(ARGV[4]) < 0 and -1 or tonumber(ARGV[3]) + tonumber(ARGV[4]) - 1
local out = {total}
for _, id in ipairs(redis.call('ZRANGE', base .. K.deliveries, ARGV[3], stop)) do
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGETALL', base .. K.delivery .. id)
end
return out
""",
)

# The partition's deliveries that match, from one end: how many in all, and up to `want` as
# {id, score} in the order of every tenant's deliveries. ARGV: root, '', newest first (1/0),
# want, state, provider, agent, phone, message id ('' any), failing only (1/0). Answers
# {total, id, score, ...}.
SCAN_DELIVERIES = script(
    Reads,
    """
local newest, want = ARGV[3] == '1', tonumber(ARGV[4])
local st, p, a, ph, mid, failing = ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10] == '1'
local filtered = st ~= '' or p ~= '' or a ~= '' or ph ~= '' or mid ~= '' or failing
local out, found = {0}, 0
local key = pbase .. Q.deliveries
local size = redis.call('ZCARD', key)
local at = 0
while at < size and (filtered or want < 0 or found < want) do
  local slice
  if newest then
    slice = redis.call('ZREVRANGE', key, at, at + 199, 'WITHSCORES')
  else
    slice = redis.call('ZRANGE', key, at, at + 199, 'WITHSCORES')
  end
  if #slice == 0 then break end
  at = at + 200
  for i = 1, #slice, 2 do
    local where = redis.call('HGET', pbase .. Q.delivery_where, slice[i])
    local t, e = string.match(where or '|', '^([^|]*)|(.*)$')
    if where and live(t, e) then
      local ok = true
      if filtered then
        local f = redis.call('HMGET', base_of(t, e) .. K.delivery .. slice[i], 'st', 'p', 'a',
          'ph', 'mid')
        ok = f[1] and (st == '' or f[1] == st) and (p == '' or f[2] == p)
          and (a == '' or f[3] == a) and (ph == '' or f[4] == ph) and (mid == '' or f[5] == mid)
          and (not failing or f[1] == 'retrying' or f[1] == 'failed')
      end
      if ok then
        found = found + 1
        if want < 0 or found <= want then
          out[#out + 1] = slice[i]
          out[#out + 1] = slice[i + 1]
        end
      end
    end
  end
end
if filtered then
  out[1] = found
else
  out[1] = redis.call('HGET', pbase .. Q.counts, 'log') or '0'
end
return out
""",
)

# Deliveries of the partition's tenants by id. ARGV: root, '', ids... Answers {tenant, hash,
# ...} (one not held: '' and an empty hash).
FETCH_DELIVERIES = script(
    Reads,
    """
local out = {}
for i = 3, #ARGV do
  local where = redis.call('HGET', pbase .. Q.delivery_where, ARGV[i])
  local t, e = string.match(where or '|', '^([^|]*)|(.*)$')
  if where and live(t, e) then
    out[#out + 1] = redis.call('HGET', pbase .. Q.tenants, t) or ''
    out[#out + 1] = redis.call('HGETALL', base_of(t, e) .. K.delivery .. ARGV[i])
  else
    out[#out + 1] = ''
    out[#out + 1] = {}
  end
end
return out
""",
)

# A message's deliveries. ARGV: root, tag, message id. Answers {id, hash, ...}.
DELIVERIES_OF = script(
    Reads,
    """
local out = {}
for _, id in ipairs(redis.call('LRANGE', base .. K.by_message .. ARGV[3], 0, -1)) do
  local h = redis.call('HGETALL', base .. K.delivery .. id)
  if #h > 0 then
    out[#out + 1] = id
    out[#out + 1] = h
  end
end
return out
""",
)

# How many of the tenant's attempts are due by now or under way, and when the next is due.
# ARGV: root, tag, now. Answers {count, earliest ready ('' none)}.
BUSY = script(
    Reads,
    """
local due = redis.call('ZCOUNT', base .. K.ready, '-inf', ARGV[3])
local flying = tonumber(redis.call('HGET', base .. K.delivery_counts, 'in_flight') or '0')
return {due + flying, earliest(base .. K.ready)}
""",
)

# A tenant's uploaded files' records, in the order they were uploaded. ARGV: root, tag.
# Answers {id, record, id, record...}.
FILES = script(
    Reads,
    """
local out = {}
for _, id in ipairs(redis.call('ZRANGE', base .. K.file_order, 0, -1)) do
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGET', base .. K.files, id)
end
return out
""",
)

# Every tenant's uploads of the partition, in upload order. ARGV: root, ''. Answers {record,
# upload order, ...}.
FILES_ANY = script(
    Reads,
    """
local out = {}
local found = redis.call('ZRANGE', pbase .. Q.files, 0, -1, 'WITHSCORES')
for i = 1, #found, 2 do
  local t, e, id = split(found[i])
  if live(t, e) then
    local record = redis.call('HGET', base_of(t, e) .. K.files, id)
    if record then
      out[#out + 1] = record
      out[#out + 1] = found[i + 1]
    end
  end
end
return out
""",
)

# An upload's record, of any tenant of the partition. ARGV: root, '', file id. Answers the
# record (false: none).
FILE_ANY = script(
    Reads,
    """
local where = redis.call('HGET', pbase .. Q.file_where, ARGV[3])
if not where then return false end
local t, e = string.match(where, '^([^|]*)|(.*)$')
if not live(t, e) then return false end
return redis.call('HGET', base_of(t, e) .. K.files, ARGV[3])
""",
)

# A tenant's reset: its epoch moves on (what it held is left behind, swept later), and what its
# partition counted of it is taken back at once. ARGV: root, tag. Answers the epoch left behind
# and the tenant's root (its keys below '<root><epoch>:' are to be swept).
RESET = script(
    Keeps,
    """
local counts = pbase .. Q.counts
bump(counts, 'messages', -redis.call('ZCARD', base .. K.all))
bump(counts, 'scheduled', -redis.call('ZCARD', base .. K.due))
bump(counts, 'log', -redis.call('ZCARD', base .. K.deliveries))
bump(counts, 'conversations', -redis.call('ZCARD', base .. K.conversations))
local states = redis.call('HGETALL', base .. K.delivery_counts)
for i = 1, #states, 2 do bump(counts, states[i], -tonumber(states[i + 1])) end
for _, level in ipairs(redis.call('SMEMBERS', base .. K.stat_levels)) do
  local held = redis.call('HGETALL', base .. K.stats .. level)
  for i = 1, #held, 2 do bump(pbase .. Q.stats .. level, held[i], -tonumber(held[i + 1])) end
end
flush_bumps()
redis.call('ZREM', pbase .. Q.due, tag)
redis.call('ZREM', pbase .. Q.ready, tag)
redis.call('HDEL', pbase .. Q.tenants, tag)
redis.call('SADD', pbase .. Q.stale, tag .. '|' .. te)
redis.call('INCR', troot .. R.epoch)
return {te, troot}
""",
)

# Every tenant of the partition reset at once: its epoch moves on. ARGV: root, ''. Answers the
# base left behind (every key below it is to be swept).
RESET_ALL = script(
    Keeps,
    """
redis.call('INCR', proot .. P.epoch)
return pbase
""",
)

# Members a tenant's reset left behind in the partition's indexes, removed a slice at a time.
# ARGV: root, '', index (a name of Q), cursor, count. Answers the next cursor ('0': done).
# ('stale' answers the tenants reset and not swept yet; 'pruned', tenants... forgets those.)
PRUNE = script(
    Keeps,
    """
local index, cursor, n = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
if index == 'stale' then return redis.call('SMEMBERS', pbase .. Q.stale) end
if index == 'pruned' then
  for i = 4, #ARGV do redis.call('SREM', pbase .. Q.stale, ARGV[i]) end
  return '0'
end
local key = pbase .. Q[index]
local function gone_from(value)
  local t, e = string.match(value or '|', '^([^|]*)|(.*)$')
  return not live(t, e)
end
if index == 'where' or index == 'delivery_where' or index == 'file_where' then
  local found = redis.call('HSCAN', key, cursor, 'COUNT', n)
  for i = 1, #found[2], 2 do
    if gone_from(found[2][i + 1]) then redis.call('HDEL', key, found[2][i]) end
  end
  return found[1]
end
local slice = redis.call('ZRANGE', key, cursor, cursor + n - 1)
local removed = 0
for _, m in ipairs(slice) do
  local t, e, rest
  if index == 'messages' then
    t, e, rest = string.match(m, '^[^|]*|([^|]*)|([^|]*)|(.*)$')
  elseif index == 'conversations' then
    t, e, rest = string.match(m, '^[^|]*|([^|]*)|([^|]*)|(.*)$')
  elseif index == 'deliveries' then
    local where = redis.call('HGET', pbase .. Q.delivery_where, m)
    t, e = string.match(where or '|', '^([^|]*)|(.*)$')
  else
    t, e, rest = split(m)
  end
  if not live(t, e) then
    redis.call('ZREM', key, m)
    removed = removed + 1
    if index == 'conversations' then
      redis.call('ZREM', pbase .. Q.conversation .. rest, t .. '|' .. e)
    end
  end
end
if #slice < n then return '0' end
return tostring(cursor + n - removed)
""",
)

# The oldest messages (or deliveries) of the partition, for a global bound: how many it holds,
# and up to n of its oldest as {member, score, finished (1/0)}. ARGV: root, '', kind
# ('messages' or 'deliveries'), n. Answers {count, member, score, finished, ...}.
HEADS = script(
    Reads,
    """
local key = pbase .. Q[ARGV[3]]
local n = tonumber(ARGV[4])
local out = {0}
local at = 0
while #out < 3 * n + 1 do
  local slice = redis.call('ZRANGE', key, at, at + 199, 'WITHSCORES')
  if #slice == 0 then break end
  at = at + 200
  for i = 1, #slice, 2 do
    local m = slice[i]
    if ARGV[3] == 'messages' then
      local _, t, e = string.match(m, '^([^|]*)|([^|]*)|([^|]*)|')
      if live(t, e) then
        out[#out + 1] = m
        out[#out + 1] = slice[i + 1]
        out[#out + 1] = '1'
      end
    else
      local where = redis.call('HGET', pbase .. Q.delivery_where, m)
      local t, e = string.match(where or '|', '^([^|]*)|(.*)$')
      if where and live(t, e) then
        local st = redis.call('HGET', base_of(t, e) .. K.delivery .. m, 'st')
        out[#out + 1] = m
        out[#out + 1] = slice[i + 1]
        out[#out + 1] = (st == 'delivered' or st == 'failed') and '1' or '0'
      end
    end
    if #out >= 3 * n + 1 then break end
  end
end
out[1] = redis.call('HGET', pbase .. Q.counts, ARGV[3] == 'messages' and 'messages' or 'log')
  or '0'
return out
""",
)

# A global bound's share of the partition: its oldest messages (or finished deliveries) up to
# and including the cutoff (a score and a member: what every partition's oldest, merged, said
# goes), at most `most` of them; a delivery still under way stops it (one owed to its receiver
# is never forgotten). ARGV: root, '', kind, cutoff score, cutoff member, most. Answers how
# many left.
EVICT = script(
    Keeps,
    """
local kind, cs, cm, most = ARGV[3], tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])
local key = pbase .. Q[kind]
local gone = 0
while gone < most do
  local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if #first == 0 then break end
  local m, score = first[1], tonumber(first[2])
  if score > cs or (score == cs and m > cm) then break end
  if kind == 'messages' then
    local _, t, e, id = string.match(m, '^([^|]*)|([^|]*)|([^|]*)|(.*)$')
    redis.call('ZREM', key, m)
    if live(t, e) and evict(base_of(t, e), t, e, id) then gone = gone + 1 end
  else
    local where = redis.call('HGET', pbase .. Q.delivery_where, m)
    local t, e = string.match(where or '|', '^([^|]*)|(.*)$')
    if not (where and live(t, e)) then
      redis.call('ZREM', key, m)
    else
      local b = base_of(t, e)
      local k = b .. K.delivery .. m
      local f = redis.call('HMGET', k, 'st', 'mid')
      if f[1] ~= 'delivered' and f[1] ~= 'failed' then break end
      redis.call('DEL', k)
      redis.call('ZREM', b .. K.deliveries, m)
      redis.call('LREM', b .. K.by_message .. f[2], 1, m)
      redis.call('ZREM', key, m)
      redis.call('HDEL', pbase .. Q.delivery_where, m)
      count(b, f[1], -1)
      bump(pbase .. Q.counts, 'log', -1)
      bump(pbase .. Q.counts, 'dropped', 1)
      gone = gone + 1
    end
  end
end
flush_bumps()
return gone
""",
)

# The next number in a tenant's order of units of work, under a seed. ARGV: root, tag, seed.
UNIT_NUMBER = script(
    Keeps,
    """
return redis.call('INCR', base .. K.unit_numbers .. ARGV[3])
""",
)

# Keep a surprise (JSON), the newest `cap` of the tenant's (tag given) and of its partition's.
# ARGV: root, tag, item, cap.
NOTE = script(
    Grows,
    """
if tag ~= '' then
  redis.call('LPUSH', base .. K.surprises, ARGV[3])
  redis.call('LTRIM', base .. K.surprises, 0, tonumber(ARGV[4]) - 1)
end
redis.call('LPUSH', pbase .. Q.surprises, member(ARGV[3]))
redis.call('LTRIM', pbase .. Q.surprises, 0, tonumber(ARGV[4]) - 1)
return 1
""",
)

# A tenant's surprises (tag given), or the partition's (its tenants' and those of no tenant),
# newest first. ARGV: root, tag.
NOTED = script(
    Reads,
    """
if tag ~= '' then return redis.call('LRANGE', base .. K.surprises, 0, -1) end
local out = {}
for _, m in ipairs(redis.call('LRANGE', pbase .. Q.surprises, 0, -1)) do
  local t, e, item = split(m)
  if t == '' or live(t, e) then out[#out + 1] = item end
end
return out
""",
)

# Forget the partition's surprises of no tenant. ARGV: root, ''.
FORGET_SURPRISES = script(
    Keeps,
    """
local kept = {}
for _, m in ipairs(redis.call('LRANGE', pbase .. Q.surprises, 0, -1)) do
  if string.sub(m, 1, 1) ~= '|' then kept[#kept + 1] = m end
end
redis.call('DEL', pbase .. Q.surprises)
for i = 1, #kept, 1000 do
  redis.call('RPUSH', pbase .. Q.surprises, unpack(kept, i, math.min(i + 999, #kept)))
end
return #kept
""",
)

# An upload's bytes. ARGV: root, tag, file id, bytes.
KEEP_FILE = script(
    Grows,
    """
redis.call('SET', base .. K.file_bytes .. ARGV[3], ARGV[4])
return 1
""",
)

# An upload's bytes (false: gone). ARGV: root, tag, file id.
FILE_BYTES = script(
    Reads,
    """
return redis.call('GET', base .. K.file_bytes .. ARGV[3])
""",
)

# One hit of a counted fault, if it has any left. ARGV: root, '', fault id, its count.
TAKE_FAULT = script(
    Keeps,
    """
local left = redis.call('HGET', pbase .. Q.faults, ARGV[3])
if not left then left = tonumber(ARGV[4]) else left = tonumber(left) end
if left <= 0 then return 0 end
redis.call('HSET', pbase .. Q.faults, ARGV[3], left - 1)
return 1
""",
)

# -- what processes share (sharing.py), kept in every partition ---------------------------

# The shared settings, if this version is newer than the partition's (a version reads
# "<number>|<writer>": the greater number wins, then the greater writer). ARGV: root, '',
# version, settings (JSON). Answers the partition's version after.
SHARE_SETTINGS = script(
    Keeps,
    """
local held = redis.call('HGET', proot .. P.versions, 'settings') or '0|'
local hn, hw = string.match(held, '^(%d+)|(.*)$')
local gn, gw = string.match(ARGV[3], '^(%d+)|(.*)$')
if tonumber(gn) > tonumber(hn) or (tonumber(gn) == tonumber(hn) and gw > hw) then
  redis.call('SET', proot .. P.settings, ARGV[4])
  redis.call('HSET', proot .. P.versions, 'settings', ARGV[3])
  return ARGV[3]
end
return held
""",
)

# The shared clock: each field kept at the greater of what it holds and what is given (two
# tenants advanced at once through two processes both hold), and its count of changes moved on.
# ARGV: root, '', field, value, field, value... Answers the count.
SHARE_CLOCK = script(
    Keeps,
    """
for i = 3, #ARGV, 2 do
  local held = redis.call('HGET', proot .. P.clock, ARGV[i])
  if not held or tonumber(held) < tonumber(ARGV[i + 1]) then
    redis.call('HSET', proot .. P.clock, ARGV[i], ARGV[i + 1])
  end
end
return redis.call('HINCRBY', proot .. P.versions, 'clock', 1)
""",
)

# The clock's count of changes, raised to at least the given one (a partition that missed
# changes while it was down, brought up to date). ARGV: root, '', count.
CLOCK_CAUGHT_UP = script(
    Keeps,
    """
local held = tonumber(redis.call('HGET', proot .. P.versions, 'clock') or '0')
if held < tonumber(ARGV[3]) then redis.call('HSET', proot .. P.versions, 'clock', ARGV[3]) end
return 1
""",
)

# A process hears the channel and has taken in every change up to the versions it names
# ("<settings number>.<clock count>"); its beat is Redis's time (processes on other machines
# compare it with the same clock). ARGV: root, '', process, versions taken.
BEAT = script(
    Keeps,
    """
local t = redis.call('TIME')
redis.call('HSET', proot .. P.heard, 'b:' .. ARGV[3], t[1] * 1000 + math.floor(t[2] / 1000),
  'a:' .. ARGV[3], ARGV[4])
return 1
""",
)

# The processes other than ARGV[3] that beat within ARGV[6] ms and have not taken in settings
# number ARGV[4] and clock count ARGV[5] (those silent for a minute are forgotten).
UNHEARD = script(
    Keeps,
    """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local held = redis.call('HGETALL', proot .. P.heard)
local beats, taken = {}, {}
for i = 1, #held, 2 do
  local token = string.sub(held[i], 3)
  if string.sub(held[i], 1, 1) == 'b' then beats[token] = tonumber(held[i + 1])
  else taken[token] = held[i + 1] end
end
local out = {}
for token, beat in pairs(beats) do
  if now - beat > 60000 then
    redis.call('HDEL', proot .. P.heard, 'b:' .. token, 'a:' .. token)
  elseif token ~= ARGV[3] and now - beat <= tonumber(ARGV[6]) then
    local s, c = string.match(taken[token] or '0.0', '^(%d+)%.(%d+)$')
    if tonumber(s or 0) < tonumber(ARGV[4]) or tonumber(c or 0) < tonumber(ARGV[5]) then
      out[#out + 1] = token
    end
  end
end
return out
""",
)

# A process that stops is waited for no more. ARGV: root, '', process.
GONE = script(
    Keeps,
    """
redis.call('HDEL', proot .. P.heard, 'b:' .. ARGV[3], 'a:' .. ARGV[3])
return 1
""",
)

# What a partition holds of what processes share. ARGV: root, ''. Answers {versions (a hash)}.
VERSIONS = script(
    Reads,
    """
return redis.call('HGETALL', proot .. P.versions)
""",
)

# The shared settings and clock, as a partition holds them. ARGV: root, ''. Answers
# {settings, clock (a hash), versions (a hash)}.
SHARED = script(
    Reads,
    """
return {redis.call('GET', proot .. P.settings) or '', redis.call('HGETALL', proot .. P.clock),
  redis.call('HGETALL', proot .. P.versions)}
""",
)


# Every script, by name (what Link registers).
SCRIPTS = {name: value for name, value in dict(globals()).items() if isinstance(value, Script)}
