-- KEYS: 1 the site's roster (hash), 2 the event stream, 3 the deadlines (sorted set),
--       4 the user's sessions (set).
-- ARGV: 1 the roster's version when it was read, 2 the new roster (JSON), 3 how many events
--       the stream keeps, 4 the event (JSON; '' for none), 5 the site, 6 the session as the
--       deadlines name it, 7 'set' or 'drop' its deadline, 8 the deadline to set, 9 when
--       reaping, the time its deadline must not be after ('' otherwise), 10 the user's cap.
if ARGV[9] ~= '' then
  local deadline = redis.call('ZSCORE', KEYS[3], ARGV[6])
  if not deadline or tonumber(deadline) > tonumber(ARGV[9]) then return 'skip' end
end
local version = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if version ~= tonumber(ARGV[1]) then return false end
if ARGV[7] == 'set' and ARGV[10] ~= '' and redis.call('SISMEMBER', KEYS[4], ARGV[6]) == 0
   and redis.call('SCARD', KEYS[4]) >= tonumber(ARGV[10]) then
  return 'full'
end
redis.call('HSET', KEYS[1], 'version', version + 1, 'roster', ARGV[2])
local id = ''
if ARGV[4] ~= '' then
  id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'site', ARGV[5], 'data', ARGV[4])
end
if ARGV[7] == 'set' then
  redis.call('ZADD', KEYS[3], ARGV[8], ARGV[6])
  redis.call('SADD', KEYS[4], ARGV[6])
elseif ARGV[7] == 'drop' then
  redis.call('ZREM', KEYS[3], ARGV[6])
  redis.call('SREM', KEYS[4], ARGV[6])
end
return id
