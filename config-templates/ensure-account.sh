#!/bin/sh
# Rendered by family-xmpp from config-templates/ensure-account.sh; the provisioning step runs it
# over SSH with the member's initial password on stdin (never on a command line, never logged).
# An account that exists already (a rebuilt server, data kept on the volume) is left as it is:
# its owner may have changed the password since.
set -eu

jid={{ JID }}
IFS= read -r password
if output=$(printf '%s\n%s\n' "$password" "$password" | {{ PROSODYCTL }} adduser "$jid" 2>&1); then
    echo "family-xmpp: created $jid"
    exit 0
fi
case "$output" in
*"already exists"*)
    echo "family-xmpp: $jid exists already; left unchanged"
    ;;
*)
    echo "family-xmpp: could not create $jid: $output" >&2
    exit 1
    ;;
esac
