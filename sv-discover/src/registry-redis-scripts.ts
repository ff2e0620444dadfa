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
 */

const HELPERS = `
local function purge(connsKey, nodesKey, userPrefix, nodeId)
  local conns = redis.call('HGETALL', connsKey)
  for i = 1, #conns, 2 do
    redis.call('SREM', userPrefix .. conns[i + 1], nodeId .. '|' .. conns[i])
  end
  redis.call('DEL', connsKey)
  redis.call('ZREM', nodesKey, nodeId)
end
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/**
 * KEYS: lease, conns, nodes · ARGV: url, ttlMs, nodeId, userPrefix → 1 when the lease was held
 * under the same URL, else 0 after purging whatever the node's previous incarnation left.
 */
export const RENEW_LEASE = HELPERS + `
local known = redis.call('GET', KEYS[1]) == ARGV[1]
if not known then purge(KEYS[2], KEYS[3], ARGV[4], ARGV[3]) end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[3], nowMs() + tonumber(ARGV[2]), ARGV[3])
if known then return 1 end
return 0
`;

/**
 * KEYS: lease, conns, nodes · ARGV: nodeId, userPrefix, addCount, user1, conn1, …, removeConn…
 * Adds apply before removes (a connection that came and went within one batch ends removed).
 * Without a live lease, nothing is added and the node's leftovers are purged.
 */
export const UPDATE_ENTRIES = HELPERS + `
local nodeId, userPrefix, nAdd = ARGV[1], ARGV[2], tonumber(ARGV[3])
if redis.call('EXISTS', KEYS[1]) == 0 then
  purge(KEYS[2], KEYS[3], userPrefix, nodeId)
  return 0
end
for i = 0, nAdd - 1 do
  local user, connId = ARGV[4 + 2 * i], ARGV[5 + 2 * i]
  local member = nodeId .. '|' .. connId
  local previous = redis.call('HGET', KEYS[2], connId)
  if previous and previous ~= user then redis.call('SREM', userPrefix .. previous, member) end
  redis.call('HSET', KEYS[2], connId, user)
  redis.call('SADD', userPrefix .. user, member)
end
for i = 4 + 2 * nAdd, #ARGV do
  local connId = ARGV[i]
  local user = redis.call('HGET', KEYS[2], connId)
  if user then
    redis.call('SREM', userPrefix .. user, nodeId .. '|' .. connId)
    redis.call('HDEL', KEYS[2], connId)
  end
end
return 1
`;

/**
 * KEYS: lease, conns, nodes · ARGV: nodeId, userPrefix, force ('1' also drops a live lease).
 * Returns 1 when the node was purged, 0 when its lease is live and force was not given.
 */
export const PURGE_NODE = HELPERS + `
if ARGV[3] == '1' then
  redis.call('DEL', KEYS[1])
elseif redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
purge(KEYS[2], KEYS[3], ARGV[2], ARGV[1])
return 1
`;

/**
 * KEYS: nodes · ARGV: leasePrefix, connsPrefix, userPrefix, limit → how many expired nodes were
 * looked at (the caller repeats while it equals limit). A node renewed meanwhile is left alone.
 */
export const SWEEP = HELPERS + `
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', nowMs(), 'LIMIT', 0, tonumber(ARGV[4]))
for _, nodeId in ipairs(expired) do
  if redis.call('EXISTS', ARGV[1] .. nodeId) == 0 then
    purge(ARGV[2] .. nodeId, KEYS[1], ARGV[3], nodeId)
  else
    -- live lease with a stale score cannot happen through RENEW_LEASE; keep the sweep from looping on it
    redis.call('ZADD', KEYS[1], nowMs() + redis.call('PTTL', ARGV[1] .. nodeId), nodeId)
  end
end
return #expired
`;
