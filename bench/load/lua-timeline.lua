-- When Prosody's one thread stalls, and on what: a timeline that bench/load.ts (--lua-timeline)
-- loads into the running server through its admin shell. The Lua profile adds time up by function;
-- a message waits for whatever runs before it, so latency comes from the long single stretches.
--
-- Three sources, written to the file as they happen; stop() adds the totals:
-- - a hook every `every` Lua instructions, in the main thread and in every new coroutine, notes an
--   interval between two hooks longer than `threshold` seconds: one C call or one collection of
--   the garbage collector that long, with the CPU time spent, the heap before and after, the
--   collections that ended in it and the stack where it ended. An interval in which the thread
--   used under a tenth of it on the CPU is counted as a wait (mostly the event loop waiting for
--   the network); one with more, but less than its length, had the thread off the CPU in part;
-- - a finalizer that arms itself again: it runs at the end of every collection that frees it, so
--   it dates the garbage collector's cycles (finalizers run with hooks off, and cannot ask the
--   collector for the heap's size);
-- - a timer every 10 ms that notes when it runs late: the loop busy with many short tasks.
--
-- Loaded with dofile (the server forbids new globals), it keeps itself in package.loaded.
local getinfo, clock = debug.getinfo, os.clock
local here = getinfo(1, "S").source:match("^@(.*/)")
local hook_every_coroutine = dofile(here .. "hook-every-coroutine.lua")
local now = require("prosody.util.time").now
local add_task = require("prosody.util.timer").add_task

local TICK = 0.01
local STACK_DEPTH = 10

local timeline = {}
local out, every, threshold, started
local last_wall, last_cpu, last_kb, collections = 0, 0, 0, 0
local waits, longest_wait = 0, 0
local running = false

local function emit(format, ...)
	out:write(format:format(...), "\n")
	out:flush()
end

local function stack()
	local frames = {}
	for level = 3, 2 + STACK_DEPTH do
		local info = getinfo(level, "Sln")
		if not info then
			break
		end
		local file = info.short_src:match("[^/]*$")
		frames[#frames + 1] = ("%s:%d(%s)"):format(file, info.currentline, info.name or "?")
	end
	return table.concat(frames, " < ")
end

local collections_at_last_hook = 0
local function hook()
	local wall, cpu, kb = now(), clock(), collectgarbage("count")
	local length = wall - last_wall
	if length > threshold then
		if cpu - last_cpu < 0.1 * length then
			waits, longest_wait = waits + 1, math.max(longest_wait, length)
		else
			emit(
				"stall %9.3f s %7.1f ms  CPU %7.1f ms  heap %7.0f -> %7.0f KiB  collections %d  at %s",
				last_wall - started,
				1000 * length,
				1000 * (cpu - last_cpu),
				last_kb,
				kb,
				collections - collections_at_last_hook,
				stack()
			)
		end
	end
	last_wall, last_cpu, last_kb, collections_at_last_hook = wall, cpu, kb, collections
end

-- A table that is garbage as soon as it is made; its finalizer makes the next one.
local function arm_sentinel()
	setmetatable({}, {
		__gc = function()
			if not running then
				return
			end
			collections = collections + 1
			emit("collection %4d ended %9.3f s", collections, now() - started)
			arm_sentinel()
		end,
	})
end

local due
local function tick()
	if not running then
		return
	end
	local wall = now()
	if wall - due > threshold then
		emit("late %10.3f s %7.1f ms", due - started, 1000 * (wall - due))
	end
	due = wall + TICK
	return TICK
end

local unhook

function timeline.start(file, instructions, seconds)
	out = assert(io.open(file, "w"))
	every, threshold = instructions, seconds
	emit(
		"# intervals over %.0f ms between hooks every %d Lua instructions; late = a 10 ms timer's lateness",
		1000 * threshold,
		every
	)
	started = now()
	last_wall, last_cpu, last_kb = started, clock(), collectgarbage("count")
	running = true
	arm_sentinel()
	due = started + TICK
	add_task(TICK, tick)
	unhook = hook_every_coroutine(hook, every)
	return "timeline every " .. every .. " instructions into " .. file
end

-- No more hooks in the main thread and new coroutines (running ones keep theirs until they end,
-- as the bench stops the server next); the totals.
function timeline.stop()
	running = false
	unhook()
	local totals = "# %d collections; %d waits (under a tenth on the CPU), the longest %.1f ms"
	emit(totals, collections, waits, 1000 * longest_wait)
	out:close()
	return "stopped"
end

package.loaded.family_bench_timeline = timeline
return timeline
