#!/bin/sh
# Rendered by family-xmpp from config-templates/sync-family-files.sh; the provisioning step runs it
# over SSH whenever the family's files change (a member added, renamed, moved between groups).
# It writes only the files whose content differs, then makes the running Prosody read them again:
# no restart, nobody is disconnected.
set -eu

changed=0

# write_file PATH OWNER MODE, with the file's content in base64 on stdin
write_file() {
    new=$(mktemp "$1.XXXXXX")
    base64 -d >"$new"
    chown "$2" "$new"
    chmod "$3" "$new"
    if cmp -s "$new" "$1"; then
        rm -f "$new"
        chown "$2" "$1"
        chmod "$3" "$1"
    else
        mv -f "$new" "$1"
        echo "family-xmpp: updated $1"
        changed=1
    fi
}

{{ WRITE_FILES }}

if [ "$changed" -eq 1 ] && {{ PROSODYCTL }} status >/dev/null 2>&1; then
    {{ PROSODYCTL }} shell "config:reload()"
    {{ PROSODYCTL }} shell "module:reload('groups', '{{ DOMAIN }}')"
fi
echo "family-xmpp: family files in place"
