-- mod_family_xmpp_https: nothing for strangers on the family's HTTPS port.
--
-- Rendered by family-xmpp from config-templates/mod_family_xmpp_https.lua (no placeholders);
-- loaded on the shared-files host. Prosody answers "/" with a "Prosody is running!" page and the
-- upload path with a page about itself, and its error pages name it too. Here every error (a path
-- that does not exist, "/" included, an unknown host, an expired file) is a bare status without a
-- body, and every answer of this host carries HSTS and headers that keep browsers from reading a
-- shared file as anything but a download.

local http_server = require "prosody.net.http.server";

local HEADERS = {
	strict_transport_security = "max-age=63072000";
	x_content_type_options = "nosniff";
	content_security_policy = "default-src 'none'; frame-ancestors 'none'";
	x_frame_options = "DENY";
	referrer_policy = "no-referrer";
};

local function add_headers(response)
	for name, value in pairs(HEADERS) do
		response.headers[name] = response.headers[name] or value;
	end
end

-- Before mod_http_errors (priority 0 and 1): an empty body, the status as it is.
module:hook_object_event(http_server, "http-error", function (event)
	if event.response then
		add_headers(event.response);
		event.response.headers.content_type = "text/plain; charset=utf-8";
	end
	return "";
end, 10);

-- mod_http_file_share's routes (under its default path): headers on every answer, and no page
-- about the upload service itself.
local base = "/file_share";
for _, method in ipairs({ "GET", "HEAD", "PUT", "OPTIONS" }) do
	module:hook_object_event(http_server, method .. " " .. module.host .. base .. "/*", function (event)
		add_headers(event.response);
	end, 10);
end
for _, path in ipairs({ base, base .. "/" }) do
	module:hook_object_event(http_server, "GET " .. module.host .. path, function ()
		return 404;
	end, 10);
end
