#!/bin/sh
# Rendered by family-xmpp from config-templates/import-certificate.sh. certbot's deploy hook: after
# every new or renewed certificate, Prosody gets a copy it can read, and reads it at once.
set -eu

{{ PROSODYCTL }} --root cert import {{ DOMAIN }} {{ LIVE_DIR }}
if {{ PROSODYCTL }} status >/dev/null 2>&1; then
    {{ PROSODYCTL }} reload
fi
