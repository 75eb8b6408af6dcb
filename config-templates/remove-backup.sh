#!/bin/sh
# Rendered by family-xmpp from config-templates/remove-backup.sh; the provisioning step runs it when
# the family turned backups off (`backup: false`): the timers stop, the commands and the repository's
# password and credentials leave the server. The repository itself stays where it is.
# Pulumi also runs it after a new server got its backup step (the old step's delete, on the same
# address): Prosody's config, which the files step wrote before, says whether backups are still on.
set -eu

if grep -qs '^family_backup_status_file' {{ PROSODY_CONFIG }}; then
    echo "family-xmpp: backups are still on; nothing removed"
    exit 0
fi

{{ STOP_TIMERS }}
rm -f {{ FILES }}
rm -rf {{ BACKUP_DIR }}
echo "family-xmpp: backups are off; nothing is backed up from now on"
