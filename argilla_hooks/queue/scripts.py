"""The Lua scripts that make each multi-key step of the queue atomic.

A script runs alone on the server, but it is not a transaction: a command that fails leaves what earlier commands
wrote. So each script writes first with the command that may be refused (XADD, which Redis refuses when it is out of
memory, and only as a script's first write), and after it only commands that cannot fail once that one succeeded.
(A script that stores several deliveries may so stop after some: each stored one has its key, the others none.)
"""

from __future__ import annotations

from typing import Any

from argilla_hooks.queue.record import SENT_FIELDS, VERSION


def ingest_script(dedup_ttl: int, maxlen: int) -> str:
    """The script that stores deliveries. KEYS: the stream, then each delivery's seen key. ARGV: for each delivery,
    the values of its record's SENT_FIELDS, in order. Returns for each delivery its new entry id, or nil when its
    event was queued already. A seen key exists only if its XADD happened. The version, names and limits are written
    into the script, and Redis's clock gives `received_at`, so that each delivery sends its values only (ingest.py)."""
    sent = ", ".join(f"'{name.decode()}', ARGV[at + {i}]" for i, name in enumerate(SENT_FIELDS))
    return f"""
local now = redis.call('TIME')
local received_at = now[1] .. '.' .. string.format('%06d', tonumber(now[2]))
local ids = {{}}
for i = 2, #KEYS do
  local at = (i - 2) * {len(SENT_FIELDS)} + 1
  if redis.call('EXISTS', KEYS[i]) == 1 then
    ids[i - 1] = false
  else
    local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', {int(maxlen)}, '*', 'v', '{VERSION.decode()}', 'received_at', received_at, {sent})
    redis.call('SET', KEYS[i], id, 'EX', {int(dedup_ttl)})
    ids[i - 1] = id
  end
end
return ids
"""


# Only the consumer that holds an entry may settle it: one that went silent past the claim idle time may have lost it
# to another worker. `mine(id)` says whether the entry is still pending for this consumer.
_MINE = """
local function mine(id)
  return #redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1, ARGV[2]) == 1
end
"""

# KEYS: stream, done key. ARGV: group, consumer, id. Returns 1, or 0 when the entry is no longer this consumer's.
ACK = _MINE + """
if not mine(ARGV[3]) then return 0 end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
redis.call('DEL', KEYS[2])
return 1
"""

# KEYS: stream, dead stream, done key. ARGV: group, consumer, id, dead MAXLEN, then the dead letter's field/value
# pairs. Moves the entry to the dead letters; 0 when it is no longer this consumer's.
DEAD = _MINE + """
if not mine(ARGV[3]) then return 0 end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', unpack(ARGV, 5))
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
redis.call('DEL', KEYS[3])
return 1
"""

# KEYS: stream. ARGV: group, consumer, attempts ('' to keep the count), then ids. Resets the idle time of the entries
# still this consumer's (a heartbeat, so that no other worker reclaims them while their handlers run), setting their
# delivery count to `attempts` when given; JUSTID, so that the count is not raised. Returns the ids it no longer holds.
TOUCH = _MINE + """
local lost = {}
for i = 4, #ARGV do
  if not mine(ARGV[i]) then
    table.insert(lost, ARGV[i])
  elseif ARGV[3] == '' then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
  else
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'RETRYCOUNT', ARGV[3], 'JUSTID')
  end
end
return lost
"""

# KEYS: stream. ARGV: group, consumer, idle (ms), then ids. Gives entries back at a stop: they stay pending, marked idle
# for long, so that the next XAUTOCLAIM of any worker takes them at once. JUSTID: a give-back is not an attempt.
GIVE_BACK = _MINE + """
for i = 4, #ARGV do
  if mine(ARGV[i]) then redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'IDLE', ARGV[3], 'JUSTID') end
end
return 1
"""

# KEYS: stream. ARGV: group, consumer. At a clean stop: removes the consumer from the group when it holds nothing
# (one that still holds entries stays, so that they remain pending for a takeover). Returns -1 when it stays.
FORGET = """
if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) > 0 then return -1 end
return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
"""

# KEYS: stream, dead stream. ARGV: stream MAXLEN, dead letter id, then the new entry's field/value pairs. Puts a dead
# letter back on the stream once; returns the new id, or nil when that dead letter is gone (redriven already).
REDRIVE = """
if #redis.call('XRANGE', KEYS[2], ARGV[2], ARGV[2]) == 0 then return false end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(ARGV, 3))
redis.call('XDEL', KEYS[2], ARGV[2])
return id
"""

# KEYS: stream. Trims the entries every consumer group has acknowledged: those older than each group's oldest
# pending entry and than its last delivered one. Nothing is trimmed while the stream has no group (receivers may run
# before any worker). Returns the number of entries trimmed.
TRIM = """
local function older(a, b)
  local ams, aseq = string.match(a, '^(%d+)-(%d+)$')
  local bms, bseq = string.match(b, '^(%d+)-(%d+)$')
  ams, bms = tonumber(ams), tonumber(bms)
  return ams < bms or (ams == bms and tonumber(aseq) < tonumber(bseq))
end
local floor = nil
for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local name, last
  for i = 1, #group, 2 do
    if group[i] == 'name' then name = group[i + 1] elseif group[i] == 'last-delivered-id' then last = group[i + 1] end
  end
  local keep = last
  local pending = redis.call('XPENDING', KEYS[1], name)
  if pending[1] > 0 and older(pending[2], keep) then keep = pending[2] end
  if floor == nil or older(keep, floor) then floor = keep end
end
if floor == nil or floor == '0-0' then return 0 end
return redis.call('XTRIM', KEYS[1], 'MINID', floor)
"""


class Scripts:
    """The scripts registered on one client (redis-py sends each by its SHA, loading it on first use)."""

    def __init__(self, redis: Any) -> None:
        self.ack = redis.register_script(ACK)
        self.dead = redis.register_script(DEAD)
        self.touch = redis.register_script(TOUCH)
        self.give_back = redis.register_script(GIVE_BACK)
        self.redrive = redis.register_script(REDRIVE)
        self.trim = redis.register_script(TRIM)
        self.forget = redis.register_script(FORGET)
