/**
 * The Redis broker's Lua scripts. Each runs atomically, so a stream's offset is assigned together
 * with the append and the PUBLISH: live subscribers see one stream's publications in offset order
 * and never one that history lacks. Entry ids are `<offset>-1`, so "after offset k" is a plain
 * `XRANGE key (k-1 +`. The meta hash holds `o` (top offset) and `e` (epoch); when it is missing
 * the stream's history was lost (flushed, evicted, expired, Redis restarted without persistence)
 * and it starts again with the new epoch passed in.
 */

import { BATCH_MAGIC } from './codec.js';

/** Fields each publication has in PUBLISH_SCRIPT's ARGV, after the common ones (publish-batch.ts types both). */
const PUBLISH_FIELDS = 9;
/** PUBLISH_SCRIPT's common ARGV, before the publications' fields. */
const PUBLISH_COMMON = 7;

/**
 * Publishes a batch of publications in order (publish-batch.ts gathers them; a call per
 * publication cost Redis and the gateway more than the work inside it), then PUBLISHes their
 * envelopes as one bus message (codec.ts).
 * KEYS: per publication meta, stream, claim (or an unused name).
 * ARGV: 1 channel, 2 size, 3 ttl ms, 4 meta ttl ms, 5 new epoch (for any stream started anew),
 * 6 claim ttl ms, 7 origin instance id; then PUBLISH_FIELDS per publication: 1 envelope header
 * prefix, 2 frame, 3 stream name as JSON, 4 claim occurrence ('' = no claim), 5 publication id,
 * 6 exclude ('' = none), 7 '1' when the origin delivered it already, 8 '1' for a replay after an
 * outage (when an entry with this id is already kept, publish it again as it was instead of
 * appending it twice), 9 the legacy claim ('' = none).
 * Returns per publication 0 when its claim was lost, else {offset, epoch}.
 */
export const PUBLISH_SCRIPT = `
local channel, size, ttl, metaTtl, newEpoch, claimTtl, origin = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]

local function republish(meta, stream, id)
  local kept = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', size)
  for _, entry in ipairs(kept) do
    local f = entry[2]
    for i = 1, #f, 2 do
      if f[i] == 'i' and f[i + 1] == id then
        local epoch = redis.call('HGET', meta, 'e')
        if not epoch then return nil end
        local offset = tonumber(string.match(entry[1], '^(%d+)'))
        local frame = ''
        for j = 1, #f, 2 do if f[j] == 'd' then frame = f[j + 1] end end
        return offset, epoch, frame
      end
    end
  end
  return nil
end

local results, out = {}, {}
local k, a = 0, ${PUBLISH_COMMON}
for n = 1, (#ARGV - ${PUBLISH_COMMON}) / ${PUBLISH_FIELDS} do
  local meta, stream, claim = KEYS[k + 1], KEYS[k + 2], KEYS[k + 3]
  local prefix, frame, name, occurrence, id = ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5]
  k, a = k + 3, a + ${PUBLISH_FIELDS}
  local claimed = true
  if occurrence == '1' then
    claimed = redis.call('SET', claim, 1, 'NX', 'PX', claimTtl) ~= false
  elseif occurrence ~= '' then
    local wanted = tonumber(occurrence)
    claimed = tonumber(redis.call('GET', claim) or '0') < wanted
    if claimed then redis.call('SET', claim, wanted, 'PX', claimTtl) end
  end
  results[n] = 0
  if claimed then
    local offset, epoch, kept
    if ARGV[a - 1] == '1' then offset, epoch, kept = republish(meta, stream, id) end
    if offset then
      frame = kept
    else
      offset = redis.call('HINCRBY', meta, 'o', 1)
      epoch = redis.call('HGET', meta, 'e')
      if not epoch then
        -- No meta: this stream's history was lost (or never was); what is left of it goes too.
        epoch = newEpoch
        redis.call('HSET', meta, 'e', epoch)
        redis.call('DEL', stream)
      end
      local position = '{"stream":' .. name .. ',"offset":' .. offset .. ',"epoch":"' .. epoch .. '"}'
      if frame == '{}' then
        frame = '{"stream_position":' .. position .. '}'
      else
        frame = string.sub(frame, 1, -2) .. ',"stream_position":' .. position .. '}'
      end
      redis.call('XADD', stream, 'MAXLEN', '~', size, offset .. '-1', 'd', frame, 'i', id, 'o', origin, 'x', ARGV[a - 3], 'l', ARGV[a - 2], 'c', ARGV[a])
      redis.call('PEXPIRE', stream, ttl)
      redis.call('PEXPIRE', meta, metaTtl)
    end
    out[#out + 1] = prefix .. ',"q":' .. offset .. ',"e":"' .. epoch .. '"}\\n' .. frame
    results[n] = {offset, epoch}
  end
end
if #out == 1 then
  redis.call('PUBLISH', channel, out[1])
elseif #out > 1 then
  redis.call('PUBLISH', channel, '${BATCH_MAGIC}\\n' .. table.concat(out, '\\n'))
end
return results
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
