#!/bin/sh
# Rendered by family-xmpp from config-templates/end-account.sh, for a member who leaves the stack
# config. Disabling (the account step's delete): the account stays, with its contacts and history,
# but nobody can log in and its apps are disconnected; the files step has already taken it out of
# every group and room. Erasing (a removedMembers entry with erase: true): the account goes with
# everything stored for it, and Prosody keeps a tombstone so the username is never given to
# someone else.
set -eu

jid={{ JID }}
output=$(prosodyctl shell {{ USER_COMMAND_LUA }} 2>&1) || true
case "$output" in
*{{ DONE_REPLY }}*)
    echo "family-xmpp: {{ DONE_MESSAGE }} $jid"
    ;;
*"No such user"*)
    echo "family-xmpp: $jid has no account (erased, or never created)"
    ;;
*)
    echo "family-xmpp: could not end $jid's membership: $output" >&2
    exit 1
    ;;
esac
