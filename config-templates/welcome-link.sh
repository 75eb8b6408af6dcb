#!/bin/sh
# Rendered by family-xmpp from config-templates/welcome-link.sh; the provisioning step runs it over
# SSH once per member (and again when asked for a fresh link), after the member's account step.
# It prints the member's new welcome link on stdout and nothing else: the link is a key to the
# account until it is used, so the step never logs its output and the stack keeps it as a secret.
# The member's older links stop working.
set -eu

jid={{ JID }}
answer=$(prosodyctl shell {{ WELCOME_LINK_LUA }} 2>&1) || true
link=$(printf '%s\n' "$answer" | sed -n 's/.*welcome-link=\(https:[^ ]*\).*/\1/p')
if [ -z "$link" ]; then
    echo "family-xmpp: could not make a welcome link for $jid: $answer" >&2
    exit 1
fi
printf '%s\n' "$link"
