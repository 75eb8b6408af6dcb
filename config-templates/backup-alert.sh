#!/bin/sh
# Rendered by family-xmpp from config-templates/backup-alert.sh; the family-xmpp-backup-alert timer
# runs it every morning. The project's Prosody module reads the backup's status file and, when the
# last good backup is older than two days, writes to every admin of the family.
set -eu

output=$(prosodyctl shell {{ ALERT_LUA }} 2>&1) || {
    echo "family-xmpp: Prosody's admin shell did not answer: $output" >&2
    exit 1
}
echo "family-xmpp: ${output#*Result: }"
