-- mod_family_welcome: members join with a personal welcome link instead of a generated password.
--
-- Rendered by family-xmpp from config-templates/mod_family_welcome.lua (no placeholders: the
-- family comes from the JSON file named by `family_file`). A welcome link is one of Prosody's own
-- password-reset invitations (mod_invites) for the account the config made for the member:
--
--  * scanned or opened in an app that supports pre-authenticated links (XEP-0401, XEP-0445:
--    Conversations, Monal, Siskin), the app registers in-band with the link's token
--    (mod_invites_register), which sets the member's own password;
--  * opened in a browser, mod_invites_page lists the apps for the device and shows the link as a
--    QR code; the page served here (at `/register`, where mod_invites_page sends apps without
--    XEP-0401 support, and "register manually") sets the password on the web instead. Debian's
--    mod_invites_register_web cannot do that: it only creates accounts.
--
-- The config stays the only source of accounts. Whatever mod_invites and mod_register_ibr would
-- allow, a registration gets through only as a new password for the enabled account of a current
-- member, with a link made for exactly that account. A link works once and expires.

local json = require "prosody.util.json";
local st = require "prosody.util.stanza";
local usermanager = require "prosody.core.usermanager";
local nodeprep = require "prosody.util.encodings".stringprep.nodeprep;
local http_formdecode = require "prosody.net.http".formdecode;
local render_page = require "prosody.util.interpolation".new("%b{}", st.xml_escape);

local host = module.host;
local family_file = module:get_option_path("family_file", nil, "config");
local invites = module:depends("invites");
module:depends("invites_register");
module:depends("invites_page");
module:depends("http");

local MIN_PASSWORD_LENGTH = 8;
local page_template = assert(module:load_resource("family_welcome.html")):read("*a");

-- Read at every use: the provisioning step rewrites it at each family change.
local function read_family()
	local file = assert(io.open(family_file));
	local text = file:read("*a");
	file:close();
	return assert(json.decode(text), "the family file is not valid JSON");
end

-- The member whose account `username` (nodeprepped, as Prosody stores it) is, if any.
local function member_of(family, username)
	for name, member in pairs(family.members) do
		if nodeprep(name) == username then return member; end
	end
end

-- Why `username` may not set a password with a welcome link, or nil if they may.
local function refusal(family, username)
	if not (username and member_of(family, username)) then
		return "not a member of the family: accounts come from the family's config";
	elseif not usermanager.user_exists(username, host) then
		return "the account does not exist yet";
	elseif not usermanager.user_is_enabled(username, host) then
		return "the account is disabled";
	end
end

local function password_problem(password)
	if not password or #password < MIN_PASSWORD_LENGTH then
		return ("a password needs at least %d characters"):format(MIN_PASSWORD_LENGTH);
	end
end

-- A fresh welcome link for a member, valid for the family's `link_seconds`; the member's older
-- links stop working. Returns the link, or nil and why not.
function welcome_link(name)
	local family = read_family();
	local username = nodeprep(name);
	local problem = refusal(family, username);
	if problem then return nil, ("%s: %s"):format(name, problem); end
	for token, invite in invites.pending_account_invites() do
		if invite.additional_data and invite.additional_data.allow_reset == username then
			invites.delete_account_invite(token);
		end
	end
	local invite, err = invites.create_account_reset(username, family.welcome.link_seconds);
	if not invite then return nil, err; end
	return invite.landing_page;
end

-- In-band registration (mod_register_ibr) asks here after mod_invites_register has checked the
-- token and named the account it may reset (allow_reset).
module:hook("user-registering", function (event)
	if event.allowed == false then return; end
	local problem;
	if event.allow_reset ~= event.username then
		problem = "a welcome link only sets the password of the account it was made for";
	else
		problem = refusal(read_family(), event.username) or password_problem(event.password);
	end
	if problem then
		module:log("info", "Refused registration of %s: %s", tostring(event.username), problem);
		event.allowed = false;
		event.error = { type = "cancel", condition = "not-allowed", text = problem };
	end
end, -100);

-- The invitation behind a token, if it may still set a member's password: its account and member.
local function usable_invite(token)
	local invite = token and invites.get(token);
	local username = invite and invite.additional_data and invite.additional_data.allow_reset;
	if not username then return nil; end
	local family = read_family();
	if refusal(family, username) then return nil; end
	return invite, username, member_of(family, username);
end

local function page(event, values)
	event.response.headers.content_type = "text/html; charset=utf-8";
	-- The page may show a password being chosen: nothing in between keeps a copy.
	event.response.headers.cache_control = "no-store";
	return render_page(page_template, values);
end

local function choose_password(event)
	local request = event.request;
	local fields = (request.method == "POST" and http_formdecode(request.body or "")
		or request.url.query and http_formdecode(request.url.query)) or {};
	local invite, username, member = usable_invite(fields.token or fields.t);
	if not invite then return page(event, { invalid = true }); end
	local values = {
		form = true, token = invite.token, jid = username .. "@" .. host, name = member.name,
		min_length = MIN_PASSWORD_LENGTH,
	};
	if request.method ~= "POST" then return page(event, values); end
	if fields.password ~= fields.again then
		values.mismatch = true;
		return page(event, values);
	elseif password_problem(fields.password) then
		values.short = true;
		return page(event, values);
	end
	local ok, err = usermanager.set_password(username, fields.password, host);
	if not ok then
		module:log("error", "Cannot set the password of %s: %s", username, tostring(err));
		return 500;
	end
	invite:use();
	module:log("info", "%s chose a password with a welcome link", username);
	return page(event, { done = true, jid = values.jid });
end

module:provides("http", {
	route = {
		GET = choose_password;
		POST = choose_password;
	};
});
