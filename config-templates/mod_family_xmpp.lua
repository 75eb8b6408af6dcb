-- mod_family_xmpp: keeps a running Prosody in step with the family's stack config.
--
-- Rendered by family-xmpp from config-templates/mod_family_xmpp.lua (no placeholders: the family
-- itself comes from the JSON file named by `family_file`, rendered from the stack config). It
-- does three things, each time the module is loaded or reloaded (the provisioning step reloads it
-- after every family change) and at Prosody's start:
--
--  * rooms: one persistent, members-only, non-anonymous room per family group, whose member
--    list is exactly the group's; someone who left the group loses access, the history stays;
--  * bookmarks: each member finds their groups' rooms in their bookmarks (XEP-0402, autojoin),
--    from the first login; a bookmark the module added goes when the member leaves the group; a
--    bookmark the member removed themselves is not forced back;
--  * rosters: after mod_groups read a new groups file, every connected app gets roster pushes for
--    the contacts that came or went, and their presence, instead of being disconnected.

local json = require "prosody.util.json";
local st = require "prosody.util.stanza";
local jid_split = require "prosody.util.jid".split;
local rostermanager = require "prosody.core.rostermanager";
local storagemanager = require "prosody.core.storagemanager";
local usermanager = require "prosody.core.usermanager";

local host = module.host;
local family_file = module:get_option_path("family_file", nil, "config");
local mod_pep = module:depends("pep");
local mod_presence = module:depends("presence");
module:depends("bookmarks");

local BOOKMARKS = "urn:xmpp:bookmarks:1";
-- The node configuration XEP-0402 asks for, as mod_bookmarks creates it.
local BOOKMARKS_NODE = {
	["persist_items"] = true;
	["max_items"] = "max";
	["send_last_published_item"] = "never";
	["access_model"] = "whitelist";
};
-- Per member, the rooms whose bookmark this module added (and so may take away again).
local added_bookmarks = module:open_store("family_bookmarks");

local family = { rooms = {}, members = {} };

local function read_family()
	local file, err = io.open(family_file);
	if not file then
		error("cannot read the family file " .. tostring(family_file) .. ": " .. tostring(err));
	end
	local text = file:read("*a");
	file:close();
	local data = assert(json.decode(text), "the family file is not valid JSON");
	family = data;
end

local function sync_rooms()
	local conference = prosody.hosts[family.conference];
	local muc = conference and conference.modules.muc;
	if not muc then
		return nil, "the group chat service " .. tostring(family.conference) .. " is not running";
	end
	for _, wanted in ipairs(family.rooms) do
		local room = muc.get_room_from_jid(wanted.jid) or assert(muc.create_room(wanted.jid));
		room:set_name(wanted.name);
		room:set_persistent(true);
		room:set_members_only(true);
		room:set_public(false);
		-- Members see each other's addresses: end-to-end encryption in rooms (OMEMO) needs it.
		room:set_whois("anyone");
		for who, affiliation in room:each_affiliation() do
			if wanted.affiliations[who] == nil and affiliation ~= "outcast" then
				room:set_affiliation(true, who, "none");
			end
		end
		for who, affiliation in pairs(wanted.affiliations) do
			if room:get_affiliation(who) ~= affiliation then
				room:set_affiliation(true, who, affiliation);
			end
		end
		room:save(true);
	end
	return #family.rooms;
end

local function bookmark_item(room, nick)
	return st.stanza("item", { xmlns = "http://jabber.org/protocol/pubsub", id = room.jid })
		:tag("conference", { xmlns = BOOKMARKS, name = room.name, autojoin = "true" })
			:text_tag("nick", nick)
		:up();
end

-- Returns how many bookmarks were added or taken away.
local function sync_bookmarks(username)
	if not usermanager.user_exists(username, host) then return 0; end
	local member = family.members[username];
	local rooms_by_jid = {};
	for _, room in ipairs(family.rooms) do rooms_by_jid[room.jid] = room; end
	local wanted = {};
	for _, room_jid in ipairs(member and member.rooms or {}) do wanted[room_jid] = rooms_by_jid[room_jid]; end

	local added = added_bookmarks:get(username) or {};
	local service = mod_pep.get_pep_service(username);
	local ok, items = service:get_items(BOOKMARKS, true);
	if not ok then
		if items ~= "item-not-found" then
			module:log("error", "Cannot read the bookmarks of %s: %s", username, items);
			return 0;
		end
		if next(wanted) == nil then return 0; end
		assert(service:create(BOOKMARKS, true, BOOKMARKS_NODE));
		items = {};
	end

	local changes = 0;
	for room_jid in pairs(added) do
		if not wanted[room_jid] then
			if items[room_jid] then
				service:retract(BOOKMARKS, true, room_jid, st.stanza("retract", { id = room_jid }));
			end
			added[room_jid] = nil;
			changes = changes + 1;
		end
	end
	for room_jid, room in pairs(wanted) do
		if not added[room_jid] then
			if not items[room_jid] then
				assert(service:publish(BOOKMARKS, true, room_jid, bookmark_item(room, member.name), BOOKMARKS_NODE));
			end
			added[room_jid] = true;
			changes = changes + 1;
		end
	end
	if changes > 0 then
		added_bookmarks:set(username, next(added) and added or nil);
	end
	return changes;
end

local function same_item(a, b)
	if a == nil or b == nil then return a == b; end
	if a.subscription ~= b.subscription or a.name ~= b.name or a.ask ~= b.ask then return false; end
	for group in pairs(a.groups or {}) do
		if not (b.groups and b.groups[group]) then return false; end
	end
	for group in pairs(b.groups or {}) do
		if not (a.groups and a.groups[group]) then return false; end
	end
	return true;
end

local function sees_presence(item)
	return item ~= nil and (item.subscription == "both" or item.subscription == "to");
end

-- The roster a member would load now: stored contacts plus what mod_groups injects.
local function current_roster(username)
	local stored, err = storagemanager.open(host, "roster", "keyval"):get(username);
	if err then return nil, err; end
	local roster = stored or {};
	roster[false] = roster[false] or { pending = {} };
	module:fire_event("roster-load", { username = username, host = host, roster = roster });
	return roster;
end

-- Brings the roster of every connected member up to date, with a roster push per changed contact
-- (RFC 6121 §2.1.6) and the contact's presence; returns how many pushes were sent.
local function sync_rosters()
	local host_session = prosody.hosts[host];
	-- Rosters of members who are offline were cached before the change: load them afresh.
	host_session.roster_cache = nil;
	local pushes = 0;
	for username, user in pairs(host_session.sessions) do
		local roster = user.roster;
		local fresh = roster and current_roster(username);
		if fresh then
			local user_jid = username .. "@" .. host;
			local contacts = {};
			for contact in pairs(roster) do if contact then contacts[contact] = true; end end
			for contact in pairs(fresh) do if contact then contacts[contact] = true; end end
			for contact in pairs(contacts) do
				local before, after = roster[contact], fresh[contact];
				if not same_item(before, after) then
					-- Change the table in place: every session of the member holds a reference to it.
					roster[contact] = after;
					rostermanager.roster_push(username, host, contact);
					pushes = pushes + 1;
					local contact_node, contact_host = jid_split(contact);
					if contact_host == host and sees_presence(after) and not sees_presence(before) then
						mod_presence.send_presence_of_available_resources(contact_node, host, user_jid);
					elseif contact_host == host and sees_presence(before) and not sees_presence(after) then
						mod_presence.send_presence_of_available_resources(contact_node, host, user_jid, nil,
							st.presence({ type = "unavailable" }));
					end
				end
			end
		end
	end
	return pushes;
end

-- Everything, in order; returns one line the provisioning step checks for.
function sync()
	read_family();
	local rooms = assert(sync_rooms());
	local bookmarks = 0;
	for username in usermanager.users(host) do
		bookmarks = bookmarks + sync_bookmarks(username);
	end
	local pushes = sync_rosters();
	return ("family in step: %d rooms, %d bookmark changes, %d roster pushes"):format(rooms, bookmarks, pushes);
end

function module.ready()
	local ok, result = pcall(sync);
	module:log(ok and "info" or "error", "%s", result);
end

-- A member's account made (usermanager enables every new account) or enabled again after the last
-- sync: their bookmarks now.
module:hook_global("user-enabled", function(event)
	if event.host ~= host then return; end
	local ok, err = pcall(sync_bookmarks, event.username);
	if not ok then module:log("error", "Bookmarks of %s: %s", event.username, err); end
end);

-- Backups (config-templates/backup.sh): the status file each nightly run leaves, read for the
-- post-deploy check (an IQ only the family's own accounts may send) and for the admins' alert.
-- Without `family_backup_status_file` the family turned backups off (`backup: false`).
local backup_status_file = module:get_option_string("family_backup_status_file");
local backup_max_age = module:get_option_number("family_backup_max_age_hours", 48) * 3600;
local BACKUP_NS = "urn:family-xmpp:backup:0";

local function backup_status()
	if not backup_status_file then return { state = "off" }; end
	local status = {};
	local file = io.open(backup_status_file);
	if file then
		for line in file:lines() do
			local key, value = line:match("^([a-z_]+)=(.*)$");
			if key then status[key] = value; end
		end
		file:close();
	end
	local now = os.time();
	local success = tonumber(status.success);
	-- A backup that never succeeded is overdue once backups have been on for as long.
	local since = success or tonumber(status.configured) or now;
	if now - since > backup_max_age then
		status.state = "overdue";
	else
		status.state = success and "ok" or "pending";
	end
	return status;
end

module:hook("iq-get/host/" .. BACKUP_NS .. ":backup", function(event)
	local origin, stanza = event.origin, event.stanza;
	if origin.type ~= "c2s" or origin.host ~= host then
		origin.send(st.error_reply(stanza, "auth", "forbidden"));
		return true;
	end
	local status = backup_status();
	local reply = st.reply(stanza):tag("backup", {
		xmlns = BACKUP_NS;
		state = status.state;
		success = status.success ~= "" and status.success or nil;
		attempt = status.attempt ~= "" and status.attempt or nil;
		result = status.result ~= "" and status.result or nil;
		["max-age-hours"] = tostring(backup_max_age // 3600);
	});
	if status.error and status.error ~= "" then reply:text_tag("error", status.error); end
	origin.send(reply);
	return true;
end);

local function utc(timestamp)
	return os.date("!%Y-%m-%d %H:%M UTC", timestamp);
end

-- Called every morning by the family-xmpp-backup-alert timer (prosodyctl shell): when the last good
-- backup is older than two days, every admin of the family gets a message from the server itself.
function backup_alert()
	local status = backup_status();
	if status.state ~= "overdue" then return "backup " .. status.state .. ": no alert"; end
	local success = tonumber(status.success);
	local text = success
		and ("The family's backup is overdue: the last good backup is from %s, %d days ago."):format(
			utc(success), (os.time() - success) // 86400)
		or ("The family's backup is overdue: no backup has succeeded since backups were set up on %s."):format(
			utc(tonumber(status.configured) or os.time()));
	if status.error and status.error ~= "" then
		text = text .. "\nThe last attempt failed: " .. status.error;
	end
	text = text .. "\nSee README, \"Backups and restoring\": run family-xmpp-backup on the server to try again.";
	local told = 0;
	for admin in module:get_option_inherited_set("admins", {}) do
		module:send(st.message({ from = host, to = admin, type = "chat" }):text_tag("body", text));
		told = told + 1;
	end
	return ("backup overdue: told %d admins"):format(told);
end
