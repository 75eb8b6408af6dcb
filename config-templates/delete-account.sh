#!/bin/sh
# Rendered by family-xmpp from config-templates/delete-account.sh; runs when a member is removed
# from the stack config. Deletes the account with its roster and history.
set -eu

jid={{ JID }}
if output=$({{ PROSODYCTL }} deluser "$jid" 2>&1); then
    echo "family-xmpp: deleted $jid"
    exit 0
fi
case "$output" in
*"does not exist"*)
    echo "family-xmpp: $jid was already gone"
    ;;
*)
    echo "family-xmpp: could not delete $jid: $output" >&2
    exit 1
    ;;
esac
