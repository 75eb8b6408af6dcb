#!/bin/sh
# Rendered by family-xmpp from config-templates/remove-backup.sh; the provisioning step runs it when
# the family turned backups off (`backup: false`): the timers stop, the commands and the repository's
# password and credentials leave the server. The repository itself stays where it is.
set -eu

{{ STOP_TIMERS }}
rm -f {{ FILES }}
rm -rf {{ BACKUP_DIR }}
echo "family-xmpp: backups are off; nothing is backed up from now on"
