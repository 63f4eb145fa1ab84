"""The Lua scripts of the Redis store: admission, settlement and release, each run atomically.

``ADMIT`` mirrors ``stores.base.decide_admission`` line by line (GCRA per limit, then budget
fit, all or nothing; an exhausted budget refuses even a request that would cost nothing);
``SETTLE`` writes a ledger row only if absent and settles its hold in the same step; ``RELEASE``
returns holds. The tests compare both backends on the same sequences.

Must not: do I/O (the store registers and runs these).
"""

from __future__ import annotations

__all__ = ["ADMIT", "RELEASE", "SETTLE"]

# Shared by the scripts: settle (actual >= 0) or release (actual < 0) one hold.
_FINISH_HOLD = """
local function finish_hold(prefix, rid, now, actual, tokens_used)
  local hkey = prefix .. 'hold:' .. rid
  local h = redis.call('HGETALL', hkey)
  if #h == 0 then return end
  local hold = {}
  for i = 1, #h, 2 do hold[h[i]] = h[i + 1] end
  local amount = tonumber(hold['amount'])
  if hold['buckets'] ~= '' then
    for bucket in string.gmatch(hold['buckets'], '[^\\n]+') do
      local bkey = prefix .. 'budget:' .. bucket
      local reserved = tonumber(redis.call('HGET', bkey, 'reserved') or '0')
      local left = reserved - amount
      if left < 0 then left = 0 end
      redis.call('HSET', bkey, 'reserved', left)
      if actual >= 0 then redis.call('HINCRBY', bkey, 'spent', actual) end
    end
  end
  if hold['tokens_key'] ~= '' then
    local rkey = prefix .. 'rate:' .. hold['tokens_key']
    local tat = redis.call('GET', rkey)
    if tat then
      local used = 0
      if actual >= 0 then used = tokens_used end
      local delta = used - tonumber(hold['tokens_reserved'])
      local new = tonumber(tat) + delta * tonumber(hold['tokens_interval'])
      if new < now then new = now end
      redis.call('SET', rkey, string.format('%.17g', new))
    end
  end
  redis.call('DEL', hkey)
  redis.call('ZREM', prefix .. 'holds', rid)
  redis.call('HDEL', prefix .. 'holds:key:' .. hold['key_id'], rid)
end
"""

ADMIT = """
local prefix = ARGV[1]
local now = tonumber(ARGV[2])
local nrates = tonumber(ARGV[3])
local nbudgets = tonumber(ARGV[4])
local amount = tonumber(ARGV[5])
local i = 6
local out = {}
local refused = false
local tats = {}
for r = 1, nrates do
  local key, interval, period, cost, limit =
    ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3]),
    tonumber(ARGV[i + 4])
  i = i + 5
  local tat = tonumber(redis.call('GET', prefix .. 'rate:' .. key) or '-1')
  local base = tat
  if base < now then base = now end
  local cand = base + cost * interval
  local allowed, stored, retry = 0, base, ''
  if cand - now <= period + 1e-9 then
    allowed, stored = 1, cand
  elseif cost <= limit then
    retry = cand - period - now
    if retry < 0 then retry = 0 end
    retry = string.format('%.17g', retry)
  end
  if allowed == 0 then refused = true end
  local rem = math.floor((now + period - stored) / interval + 1e-9)
  if rem < 0 then rem = 0 end
  if rem > limit then rem = limit end
  tats[r] = {key, stored, period}
  table.insert(out, allowed)
  table.insert(out, string.format('%.17g', stored))
  table.insert(out, rem)
  table.insert(out, string.format('%.17g', stored - now))
  table.insert(out, retry)
end
if refused then return {'rate_limited', '', out} end
local buckets = {}
for b = 1, nbudgets do
  local bucket, limit = ARGV[i], tonumber(ARGV[i + 1])
  i = i + 2
  local bkey = prefix .. 'budget:' .. bucket
  local spent = tonumber(redis.call('HGET', bkey, 'spent') or '0')
  local reserved = tonumber(redis.call('HGET', bkey, 'reserved') or '0')
  if spent >= limit or spent + reserved + amount > limit then
    return {'over_budget', bucket, out}
  end
  buckets[b] = bkey
end
for r = 1, nrates do
  local rkey = prefix .. 'rate:' .. tats[r][1]
  local ttl = math.ceil((tats[r][2] - now) * 1000) + 1000
  redis.call('SET', rkey, string.format('%.17g', tats[r][2]), 'PX', ttl)
end
for b = 1, nbudgets do redis.call('HINCRBY', buckets[b], 'reserved', amount) end
local rid = ARGV[i]
if rid ~= '' then
  local key_id, hbuckets, hamount, tkey, tint, tres, expires =
    ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6], ARGV[i + 7]
  redis.call('HSET', prefix .. 'hold:' .. rid, 'key_id', key_id, 'buckets', hbuckets,
    'amount', hamount, 'tokens_key', tkey, 'tokens_interval', tint, 'tokens_reserved', tres)
  redis.call('ZADD', prefix .. 'holds', expires, rid)
  redis.call('HSET', prefix .. 'holds:key:' .. key_id, rid, hamount)
end
return {'ok', '', out}
"""

SETTLE = (
    _FINISH_HOLD
    + """
local prefix, rid, now, credits, tokens_used, key_id =
  ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local row = prefix .. 'ledger:' .. rid
if redis.call('EXISTS', row) == 1 then return 0 end
redis.call('SET', row, ARGV[7])
redis.call('RPUSH', prefix .. 'ledger', rid)
redis.call('INCRBY', prefix .. 'spent:' .. key_id, credits)
finish_hold(prefix, rid, now, credits, tokens_used)
return 1
"""
)

RELEASE = (
    _FINISH_HOLD
    + """
local prefix, now = ARGV[1], tonumber(ARGV[2])
for i = 3, #ARGV do finish_hold(prefix, ARGV[i], now, -1, 0) end
return 1
"""
)
