#!/bin/sh
# Rendered by family-xmpp from config-templates/sync-family-files.sh; the provisioning step runs it
# over SSH whenever the family's files change (a member added, renamed, moved between groups).
# It writes only the files whose content differs, then makes the running Prosody read them again,
# without a restart.
set -eu

changed_files=""

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
        changed_files="$changed_files $1"
    fi
}

{{ WRITE_FILES }}

if [ -n "$changed_files" ] && {{ PROSODYCTL }} status >/dev/null 2>&1; then
    {{ PROSODYCTL }} shell "config:reload()"
    {{ PROSODYCTL }} shell "module:reload('groups', '{{ DOMAIN }}')"
    case " $changed_files " in
    *" "{{ GROUPS_FILE }}" "*)
        # Prosody keeps a member's roster for as long as any of their devices stays connected:
        # ask the apps to reconnect (they do so at once) so that they load the new groups.
        {{ PROSODYCTL }} shell "c2s:closeall('The family groups changed; reconnect to see them', 'reset')"
        ;;
    esac
fi
echo "family-xmpp: family files in place"
