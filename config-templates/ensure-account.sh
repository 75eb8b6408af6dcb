#!/bin/sh
# Rendered by family-xmpp from config-templates/ensure-account.sh; the provisioning step runs it
# over SSH with the member's initial password on stdin (never on a command line, never logged).
# An account that exists already (a rebuilt server, data kept on the volume) is left as it is:
# its owner may have changed the password since. A member back in the config after a removal
# finds their disabled account enabled again, with its history, and the password from stdin.
# An erased account never comes back: its username stays reserved (Prosody's tombstone).
set -eu

jid={{ JID }}
IFS= read -r password

state=$(prosodyctl shell {{ ACCOUNT_STATE_LUA }} 2>&1) || true
case "$state" in
*"account=enabled"*)
    echo "family-xmpp: $jid exists already; left unchanged"
    ;;
*"account=disabled"*)
    printf '%s\n%s\n' "$password" "$password" | prosodyctl passwd "$jid" >/dev/null
    prosodyctl shell {{ ENABLE_LUA }} >/dev/null
    echo "family-xmpp: $jid was disabled; enabled again, with its history and a new password"
    ;;
*"account=erased"*)
    echo "family-xmpp: $jid was erased; its username stays reserved so that nobody else receives" \
        "what was meant for the person who had it. Give the new member another username." >&2
    exit 1
    ;;
*"account=absent"*)
    if ! output=$(printf '%s\n%s\n' "$password" "$password" | prosodyctl adduser "$jid" 2>&1); then
        echo "family-xmpp: could not create $jid: $output" >&2
        exit 1
    fi
    echo "family-xmpp: created $jid"
    ;;
*)
    echo "family-xmpp: could not look up $jid: $state" >&2
    exit 1
    ;;
esac
