#!/bin/sh
# Rendered by family-xmpp from config-templates/erase-account.sh; runs when the stack config lists
# a former member with `erase: true`. Deletes the account with its contacts, history and files'
# records; Prosody keeps a tombstone, so the username is never given to someone else.
set -eu

jid={{ JID }}
output=$(prosodyctl shell {{ DELETE_LUA }} 2>&1) || true
case "$output" in
*"User deleted"*)
    echo "family-xmpp: erased $jid and everything stored for it"
    ;;
*"No such user"*)
    echo "family-xmpp: $jid has no account (already erased, or never created)"
    ;;
*)
    echo "family-xmpp: could not erase $jid: $output" >&2
    exit 1
    ;;
esac
