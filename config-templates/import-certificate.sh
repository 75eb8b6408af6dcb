#!/bin/sh
# Rendered by family-xmpp from config-templates/import-certificate.sh. certbot's deploy hook: after
# every new or renewed certificate, Prosody gets a copy it can read, and reads it at once; so does
# coturn (calls over TLS), which reloads it without dropping a call in progress.
set -eu

prosodyctl --root cert import {{ DOMAIN }} {{ LIVE_DIR }}
if prosody_running; then
    prosodyctl reload
fi

if command -v turnserver >/dev/null; then
    install -m 0640 {{ LIVE_DIR }}/{{ DOMAIN }}/fullchain.pem {{ TURN_CERTIFICATE }}
    install -m 0640 {{ LIVE_DIR }}/{{ DOMAIN }}/privkey.pem {{ TURN_PRIVATE_KEY }}
    chown {{ TURN_OWNER }} {{ TURN_CERTIFICATE }} {{ TURN_PRIVATE_KEY }}
    {{ RELOAD_TURN_CERTIFICATE }}
fi
