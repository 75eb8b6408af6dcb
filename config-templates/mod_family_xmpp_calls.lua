-- mod_family_xmpp_calls: TURN credentials that name the member.
--
-- Rendered by family-xmpp from config-templates/mod_family_xmpp_calls.lua (no placeholders).
-- Prosody's mod_turn_external makes every TURN username from the expiry time alone, so coturn
-- cannot tell members apart: its per-user quota would count per credential, and a member's app
-- could fetch fresh credentials until the relay ports ran out. Here every TURN username becomes
-- "<expiry>:<member>", the TURN REST API form coturn counts per member (user-quota); the member is
-- an opaque id, the same in every credential of that member, so coturn's log shows no names.

local base64 = require "prosody.util.encodings".base64;
local hashes = require "prosody.util.hashes";

module:depends("turn_external");
local secret = module:get_option_string("turn_external_secret");

local function member_id(username)
	return hashes.sha256(username .. "@" .. module.host, true):sub(1, 16);
end

local function name_the_member(event)
	local username = event.origin.username;
	if not (secret and username) then return; end
	for _, service in ipairs(event.services) do
		if (service.type == "turn" or service.type == "turns") and service.password and service.expires then
			service.username = ("%d:%s"):format(service.expires, member_id(username));
			service.password = base64.encode(hashes.hmac_sha1(secret, service.username));
		end
	end
end

module:hook("external_service/services", name_the_member);
module:hook("external_service/credentials", name_the_member);
