#!/bin/sh
# Rendered by family-xmpp from config-templates/sync-family-rooms.sh; the provisioning step runs it
# over SSH whenever the groups change. One group chat per family group, its member list the group's.
set -eu

output=$({{ PROSODYCTL }} shell {{ ROOMS_LUA }} 2>&1) || true
case "$output" in
*"family rooms in place"*)
    echo "family-xmpp: family rooms in place"
    ;;
*)
    echo "family-xmpp: could not set up the family rooms: $output" >&2
    exit 1
    ;;
esac
