-- For the bench's Lua probes (lua-profile.lua, lua-timeline.lua): calls `hook` every `every` Lua
-- instructions in the main thread and in every coroutine made from now on. Prosody handles each
-- connection's stanzas in a coroutine of its own, and a hook set on one thread does not reach the
-- others. Returns the function that stops it for the main thread and new coroutines; running ones
-- keep their hook until they end (the bench stops the server next).
local sethook = debug.sethook
local create, wrap, resume = coroutine.create, coroutine.wrap, coroutine.resume
local pack, unpack = table.pack, table.unpack

return function(hook, every)
	local function hooked_create(f)
		local co = create(f)
		sethook(co, hook, "", every)
		return co
	end
	coroutine.create = hooked_create
	coroutine.wrap = function(f)
		local co = hooked_create(f)
		return function(...)
			local result = pack(resume(co, ...))
			if not result[1] then
				error(result[2], 0)
			end
			return unpack(result, 2, result.n)
		end
	end
	-- The registry's first entry is the main thread (Lua 5.2 and later).
	local main = debug.getregistry()[1]
	sethook(main, hook, "", every)
	return function()
		coroutine.create, coroutine.wrap = create, wrap
		sethook(main)
	end
end
