-- KEYS: 1 the event stream.
-- ARGV: 1 where to start, as XRANGE takes it ('(' before an id: after it).
if redis.call('EXISTS', KEYS[1]) == 0 then return {'0-0', '0-0', 0, {}} end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local first, last_generated, length, added = '0-0', '0-0', 0, 0
for i = 1, #info, 2 do
  local key, value = info[i], info[i + 1]
  if key == 'first-entry' and value then first = value[1] end
  if key == 'last-generated-id' then last_generated = value end
  if key == 'length' then length = value end
  if key == 'entries-added' then added = value end
end
return {first, last_generated, added - length, redis.call('XRANGE', KEYS[1], ARGV[1], '+')}
