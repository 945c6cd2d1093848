/**
 * The Redis broker's Lua scripts. Each runs atomically, so a stream's offset is assigned together
 * with the append and the PUBLISH: live subscribers see one stream's publications in offset order
 * and never one that history lacks. Entry ids are `<offset>-1`, so "after offset k" is a plain
 * `XRANGE key (k-1 +`. The meta hash holds `o` (top offset) and `e` (epoch); when it is missing
 * the stream's history was lost (flushed, evicted, expired, Redis restarted without persistence)
 * and it starts again with the new epoch passed in.
 */

/**
 * KEYS: meta, stream, claim (or an unused name).
 * ARGV: 1 channel, 2 envelope header prefix, 3 frame, 4 stream name as JSON, 5 size, 6 ttl ms,
 * 7 meta ttl ms, 8 new epoch, 9 claim occurrence ('' = no claim), 10 claim ttl ms, 11 publication
 * id, 12 exclude ('' = none), 13 '1' when the origin delivered it already, 14 '1' for a replay
 * after an outage (when an entry with this id is already kept, publish it again as it was instead
 * of appending it twice), 15 origin instance id, 16 the legacy claim ('' = none).
 * Returns nil when the claim was lost, else {offset, epoch}.
 */
export const PUBLISH_SCRIPT = `
if ARGV[9] ~= '' then
  local seen = tonumber(redis.call('GET', KEYS[3]) or '0')
  local n = tonumber(ARGV[9])
  if seen >= n then return nil end
  redis.call('SET', KEYS[3], n, 'PX', ARGV[10])
end
local size = tonumber(ARGV[5])
if ARGV[14] == '1' then
  local kept = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', size)
  for _, entry in ipairs(kept) do
    local f = entry[2]
    for i = 1, #f, 2 do
      if f[i] == 'i' and f[i + 1] == ARGV[11] then
        local epoch = redis.call('HGET', KEYS[1], 'e')
        if epoch then
          local offset = tonumber(string.match(entry[1], '^(%d+)'))
          local frame = ''
          for j = 1, #f, 2 do if f[j] == 'd' then frame = f[j + 1] end end
          redis.call('PUBLISH', ARGV[1], ARGV[2] .. ',"q":' .. offset .. ',"e":"' .. epoch .. '"}\\n' .. frame)
          return {offset, epoch}
        end
      end
    end
  end
end
if redis.call('HSETNX', KEYS[1], 'e', ARGV[8]) == 1 then
  redis.call('DEL', KEYS[2])
end
local offset = redis.call('HINCRBY', KEYS[1], 'o', 1)
local epoch = redis.call('HGET', KEYS[1], 'e')
local position = '{"stream":' .. ARGV[4] .. ',"offset":' .. offset .. ',"epoch":"' .. epoch .. '"}'
local frame = ARGV[3]
if frame == '{}' then
  frame = '{"stream_position":' .. position .. '}'
else
  frame = string.sub(frame, 1, -2) .. ',"stream_position":' .. position .. '}'
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', size, offset .. '-1', 'd', frame, 'i', ARGV[11], 'o', ARGV[15], 'x', ARGV[12], 'l', ARGV[13], 'c', ARGV[16])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[7])
redis.call('PUBLISH', ARGV[1], ARGV[2] .. ',"q":' .. offset .. ',"e":"' .. epoch .. '"}\\n' .. frame)
return {offset, epoch}
`;

/**
 * KEYS: claim. ARGV: 1 occurrence, 2 claim ttl ms. Returns 1 when this instance won the claim.
 * For legacy messages whose frame is only known after a look-up (partial-application pushes).
 */
export const CLAIM_SCRIPT = `
local seen = tonumber(redis.call('GET', KEYS[1]) or '0')
if seen >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

/**
 * KEYS: meta, stream. ARGV: 1 since, 2 limit, 3 new epoch, 4 meta ttl ms.
 * Returns {top offset, epoch, entries, lost-through offset (0: none, see LOST_SCRIPT), ms the
 * meta has left}; a stream without meta gets one (a new epoch, offset 0), so a client always
 * learns the epoch its next position will be in.
 */
export const HISTORY_SCRIPT = `
if redis.call('HSETNX', KEYS[1], 'e', ARGV[3]) == 1 then
  redis.call('HSET', KEYS[1], 'o', 0)
  redis.call('DEL', KEYS[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
local top = tonumber(redis.call('HGET', KEYS[1], 'o') or '0')
local epoch = redis.call('HGET', KEYS[1], 'e')
local since = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local entries = {}
if since < top and limit > 0 then
  entries = redis.call('XRANGE', KEYS[2], '(' .. since .. '-1', '+', 'COUNT', limit)
end
return {top, epoch, entries, tonumber(redis.call('HGET', KEYS[1], 'g') or '0'), redis.call('PTTL', KEYS[1])}
`;

/**
 * KEYS: meta. Records that publications were lost from the stream after its current top (`g`), so
 * a client whose position is older is told it cannot have recovered everything. History itself is
 * kept: other instances may still need it to fill their own gaps.
 */
export const LOST_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'g', redis.call('HGET', KEYS[1], 'o'))
end
return 1
`;
