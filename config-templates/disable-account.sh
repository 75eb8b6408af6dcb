#!/bin/sh
# Rendered by family-xmpp from config-templates/disable-account.sh; runs when a member leaves the
# stack config. The account stays, with its contacts and history, but nobody can log in to it and
# its apps are disconnected; the files step has already taken it out of every group and room.
# Erasing it is a separate, explicit step (removedMembers with erase: true).
set -eu

jid={{ JID }}
output=$(prosodyctl shell {{ DISABLE_LUA }} 2>&1) || true
case "$output" in
*"User disabled"*)
    echo "family-xmpp: disabled $jid; its history is kept"
    ;;
*"No such user"*)
    echo "family-xmpp: $jid has no account (erased, or never created)"
    ;;
*)
    echo "family-xmpp: could not disable $jid: $output" >&2
    exit 1
    ;;
esac
