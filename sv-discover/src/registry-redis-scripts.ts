/**
 * Lua scripts of RedisRegistry. Each write is one script so it is atomic with the lease check:
 * a lease that expires, a purge of its entries and a node re-adding them can interleave only
 * between scripts, never inside one. Keys of user sets are built inside the scripts from the
 * prefix, so this layout targets a single Redis (or a primary with replicas), not Redis Cluster.
 *
 * Layout under prefix P (see registry-redis.ts):
 *   P reg:lease:<nodeId>  string  node URL, PX = lease
 *   P reg:conns:<nodeId>  hash    connId → user (what the node owns)
 *   P reg:user:<userId>   set     "<nodeId>|<connId>" members
 *   P reg:nodes           zset    nodeId scored by lease expiry (Redis clock), for the sweep
 *   P reg:seen:<userId>   string  when the user's last entry went (epoch ms, Redis clock), PX = LAST_SEEN_TTL_MS
 *
 * Presence: a user is online while their set exists (Redis deletes an empty set). Each script
 * notes the state of every user it touches before touching them, and returns, after its own
 * result, the transitions it made as pairs: user, then "on" or the last-seen time in ms. Because
 * a script is atomic, every transition is reported exactly once, by the instance that ran it.
 */

/** How long a user's last-seen time is kept after they went offline. */
export const LAST_SEEN_TTL_MS = 30 * 24 * 3600 * 1000;

/**
 * Every script's ARGV starts with userPrefix, seenPrefix, seenTtlMs (ARGV[1..3]); its own
 * arguments follow from ARGV[4].
 */
const HELPERS = `
local userPrefix, seenPrefix, seenTtl = ARGV[1], ARGV[2], ARGV[3]
local before, touched = {}, {}
local function touch(user)
  if before[user] == nil then
    before[user] = redis.call('EXISTS', userPrefix .. user) == 1
    touched[#touched + 1] = user
  end
end
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function result(first)
  local out, now = { first }, nil
  for _, user in ipairs(touched) do
    local online = redis.call('EXISTS', userPrefix .. user) == 1
    if online ~= before[user] then
      out[#out + 1] = user
      if online then
        out[#out + 1] = 'on'
      else
        now = now or string.format('%d', nowMs())
        redis.call('SET', seenPrefix .. user, now, 'PX', seenTtl)
        out[#out + 1] = now
      end
    end
  end
  return out
end
local function purge(connsKey, nodesKey, nodeId)
  local conns = redis.call('HGETALL', connsKey)
  for i = 1, #conns, 2 do
    touch(conns[i + 1])
    redis.call('SREM', userPrefix .. conns[i + 1], nodeId .. '|' .. conns[i])
  end
  redis.call('DEL', connsKey)
  redis.call('ZREM', nodesKey, nodeId)
end
`;

/**
 * KEYS: lease, conns, nodes · ARGV: …, url, ttlMs, nodeId → { 1 when the lease was held under
 * the same URL, else 0 after purging whatever the node's previous incarnation left; transitions }.
 */
export const RENEW_LEASE = HELPERS + `
local known = redis.call('GET', KEYS[1]) == ARGV[4]
if not known then purge(KEYS[2], KEYS[3], ARGV[6]) end
redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[5])
redis.call('ZADD', KEYS[3], nowMs() + tonumber(ARGV[5]), ARGV[6])
if known then return result(1) end
return result(0)
`;

/**
 * KEYS: lease, conns, nodes · ARGV: …, nodeId, addCount, user1, conn1, …, removeConn… → { 1, or 0
 * without a live lease; transitions }. Adds apply before removes (a connection that came and went
 * within one batch ends removed, and its user has no transition). Without a live lease, nothing is
 * added and the node's leftovers are purged.
 */
export const UPDATE_ENTRIES = HELPERS + `
local nodeId, nAdd = ARGV[4], tonumber(ARGV[5])
if redis.call('EXISTS', KEYS[1]) == 0 then
  purge(KEYS[2], KEYS[3], nodeId)
  return result(0)
end
for i = 0, nAdd - 1 do
  local user, connId = ARGV[6 + 2 * i], ARGV[7 + 2 * i]
  local member = nodeId .. '|' .. connId
  local previous = redis.call('HGET', KEYS[2], connId)
  touch(user)
  if previous and previous ~= user then
    touch(previous)
    redis.call('SREM', userPrefix .. previous, member)
  end
  redis.call('HSET', KEYS[2], connId, user)
  redis.call('SADD', userPrefix .. user, member)
end
for i = 6 + 2 * nAdd, #ARGV do
  local connId = ARGV[i]
  local user = redis.call('HGET', KEYS[2], connId)
  if user then
    touch(user)
    redis.call('SREM', userPrefix .. user, nodeId .. '|' .. connId)
    redis.call('HDEL', KEYS[2], connId)
  end
end
return result(1)
`;

/**
 * KEYS: lease, conns, nodes · ARGV: …, nodeId, force ('1' also drops a live lease) → { 1 when the
 * node was purged, 0 when its lease is live and force was not given; transitions }.
 */
export const PURGE_NODE = HELPERS + `
if ARGV[5] == '1' then
  redis.call('DEL', KEYS[1])
elseif redis.call('EXISTS', KEYS[1]) == 1 then
  return result(0)
end
purge(KEYS[2], KEYS[3], ARGV[4])
return result(1)
`;

/**
 * KEYS: nodes · ARGV: …, leasePrefix, connsPrefix, limit → { how many expired nodes were looked at
 * (the caller repeats while it equals limit); transitions }. A node renewed meanwhile is left alone.
 */
export const SWEEP = HELPERS + `
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', nowMs(), 'LIMIT', 0, tonumber(ARGV[6]))
for _, nodeId in ipairs(expired) do
  if redis.call('EXISTS', ARGV[4] .. nodeId) == 0 then
    purge(ARGV[5] .. nodeId, KEYS[1], nodeId)
  else
    -- live lease with a stale score cannot happen through RENEW_LEASE; keep the sweep from looping on it
    redis.call('ZADD', KEYS[1], nowMs() + redis.call('PTTL', ARGV[4] .. nodeId), nodeId)
  end
end
return result(#expired)
`;
