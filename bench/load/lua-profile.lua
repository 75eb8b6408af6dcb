-- Where Prosody's one thread spends its time, by Lua function: a sampling profiler that
-- bench/load.ts (--lua-profile) loads into the running server through its admin shell. perf sees
-- only the interpreter's C code; this sees which of Prosody's functions the time is spent in.
--
-- Every `every` Lua instructions a hook samples the stack of the coroutine that is running (Prosody
-- handles each connection's stanzas in a coroutine of its own, so new coroutines get the hook as
-- well as the main thread) and charges it the process CPU time since the previous sample: time in
-- C (TLS, XML, the garbage collector) goes to the Lua function that called it. "Self" is the
-- function running at the sample, "inclusive" every function on the stack, each once.
--
-- Loaded with dofile (the server forbids new globals), it keeps itself in package.loaded.
local getinfo, clock = debug.getinfo, os.clock
local here = getinfo(1, "S").source:match("^@(.*/)")
local hook_every_coroutine = dofile(here .. "hook-every-coroutine.lua")

local MAX_DEPTH = 40

local profile = {}
local self_time, inclusive, names = {}, {}, {}
local total, samples, last = 0, 0, clock()
local every

local function key_of(info)
	local key = info.short_src .. ":" .. info.linedefined
	if info.name and not names[key] then
		names[key] = info.name
	end
	return key
end

local function sample()
	local now = clock()
	local weight = now - last
	last = now
	total, samples = total + weight, samples + 1
	local info = getinfo(2, "Sn")
	if not info then
		return
	end
	local running = key_of(info)
	self_time[running] = (self_time[running] or 0) + weight
	local seen = {}
	local level = 2
	while info and level < 2 + MAX_DEPTH do
		local key = key_of(info)
		if not seen[key] then
			seen[key] = true
			inclusive[key] = (inclusive[key] or 0) + weight
		end
		level = level + 1
		info = getinfo(level, "Sn")
	end
end

local unhook

function profile.start(instructions)
	every = instructions
	unhook = hook_every_coroutine(sample, every)
	last = clock()
	return "profiling every " .. every .. " instructions"
end

local function top(times, count)
	local keys = {}
	for key in pairs(times) do
		keys[#keys + 1] = key
	end
	table.sort(keys, function(a, b)
		return times[a] > times[b]
	end)
	local lines = {}
	for i = 1, math.min(count, #keys) do
		local key = keys[i]
		lines[#lines + 1] = ("%5.1f %%  %7.2f s  %s (%s)"):format(
			100 * times[key] / total,
			times[key],
			key,
			names[key] or "?"
		)
	end
	return table.concat(lines, "\n")
end

-- Stops sampling new coroutines and the main thread and writes the report to `file`; the
-- connections' coroutines keep their hook until they end (the bench stops the server next).
function profile.stop(file)
	unhook()
	local report = ("CPU seconds sampled: %.2f in %d samples\n\nInclusive:\n%s\n\nSelf:\n%s\n"):format(
		total,
		samples,
		top(inclusive, 60),
		top(self_time, 40)
	)
	local out = assert(io.open(file, "w"))
	out:write(report)
	out:close()
	return "written to " .. file
end

package.loaded.family_bench_profile = profile
return profile
