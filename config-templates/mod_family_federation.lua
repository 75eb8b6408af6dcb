-- mod_family_federation: federation switched off, except for the push services of the family's apps.
--
-- Rendered by family-xmpp from config-templates/mod_family_federation.lua, and loaded only when the
-- stack config says `federation: false`. The config then opens no port for other servers, so
-- none can connect here; this module makes the server itself connect to no other server either,
-- but for the domains in `family_push_gateways`: a sleeping phone is woken up through its app's
-- push service (XEP-0357), which the server reaches over a server-to-server connection, and the
-- service's answers come back over that same connection (XEP-0288, mod_s2s_bidi).
--
-- Anything else addressed to another server (a message, a contact request, a room invitation)
-- is refused before a connection is made, and the sender gets Prosody's own `not-allowed` error,
-- "Communication with remote domains is not enabled". Every local host is covered, the family's
-- components (group chats, shared files) as well.

module:set_global();

local push_gateways = module:get_option_set("family_push_gateways", {});

local function only_to_push_gateways(event)
	if push_gateways:contains(event.to_host) then
		return nil; -- mod_s2s connects as usual
	end
	module:log("info", "Not connecting %s to %s: federation is switched off", event.from_host, event.to_host);
	return false; -- unroutable: Prosody answers the sender with an error
end

local function guard(host)
	module:context(host):hook("route/remote", only_to_push_gateways, 1000);
end

for host in pairs(prosody.hosts) do
	guard(host);
end
module:hook("host-activated", guard);
