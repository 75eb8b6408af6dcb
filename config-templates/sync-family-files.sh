#!/bin/sh
# Rendered by family-xmpp from config-templates/sync-family-files.sh; the provisioning step runs it
# over SSH whenever the family's files change (a member added, renamed, moved between groups).
# It writes only the files whose content differs, then brings the running Prosody in step without
# a restart: connected apps get roster pushes, rooms and bookmarks follow the groups.
set -eu

changed_files=""

# write_file PATH OWNER MODE, with the file's content in base64 on stdin
write_file() {
    if base64 -d | write_if_changed "$1" "$2" "$3"; then
        changed_files="$changed_files $1"
    fi
}

{{ WRITE_FILES }}

apply_family() {
    prosodyctl shell {{ APPLY_LUA }} 2>&1 || true
}

if [ -n "$changed_files" ] && prosody_running; then
    prosodyctl shell "config:reload()" >/dev/null
    output=$(apply_family)
    case "$output" in
    *"family needs a restart"*)
        echo "family-xmpp: Prosody runs a config from an older version of this stack; restarting it"
        {{ RESTART_PROSODY }}
        # Until the restarted Prosody answers on its admin socket, at most a minute.
        for _ in $(seq 60); do
            sleep 1
            output=$(apply_family)
            case "$output" in
            *"family in step"*) break ;;
            *) ;;
            esac
        done
        ;;
    *) ;;
    esac
    case "$output" in
    *"family in step"*)
        echo "family-xmpp: ${output#*Result: }"
        ;;
    *)
        echo "family-xmpp: could not bring Prosody in step with the family: $output" >&2
        exit 1
        ;;
    esac
fi
echo "family-xmpp: family files in place"
