#!/bin/sh
# Rendered by family-xmpp from config-templates/backup.sh: the family's nightly backup, run by
# the family-xmpp-backup timer (or by hand, as root: family-xmpp-backup). Prosody stops for the
# moment it takes to copy its data on the same volume, so that no file is caught half written;
# restic then sends the copy, the shared files, the certificates and Prosody's config to the
# repository, encrypted, and forgets what the retention no longer keeps. Every run leaves its
# outcome in the status file, which the project's Prosody module reads for the check and the
# admins' alert.
set -eu

status_file={{ STATUS_FILE }}
status_owner={{ STATUS_OWNER }}
copy_dir={{ COPY_DIR }}
data_path={{ DATA_PATH }}

{{ RESTIC }}

status_value() {
    sed -n "s/^$1=//p" "$status_file" 2>/dev/null | tail -n 1
}

# record_status RESULT [ERROR]: the outcome of this run, keeping the last success of earlier ones.
record_status() {
    now=$(date +%s)
    last_success=$(status_value success)
    last_snapshot=$(status_value snapshot)
    if [ "$1" = ok ]; then
        last_success=$now
        last_snapshot=$snapshot
    fi
    {
        echo "configured=$(status_value configured)"
        echo "attempt=$now"
        echo "result=$1"
        echo "success=$last_success"
        echo "snapshot=$last_snapshot"
        echo "pause_ms=${pause_ms:-}"
        echo "error=${2:-}"
    } | write_if_changed "$status_file" "$status_owner" 0644 >/dev/null || true
}

# One backup at a time (the timer's and one started by hand): the second leaves the first alone.
exec 9>"$copy_dir.lock"
if ! flock -n 9; then
    echo "family-xmpp: another backup is running; this one does nothing" >&2
    exit 1
fi

failure="interrupted"
snapshot=""
prosody_stopped=no
finish() {
    status=$?
    if [ "$prosody_stopped" = yes ]; then
        {{ START_PROSODY }}
    fi
    rm -rf "$copy_dir"
    if [ "$status" -ne 0 ]; then
        record_status failed "$failure"
        echo "family-xmpp: the backup FAILED: $failure" >&2
    fi
}
trap finish EXIT
trap 'exit 130' INT TERM

open_repository
# Locks left by a run that was killed (a reboot during the upload) would keep forget from running.
restic_or_fail "removing stale locks" unlock

# Prosody's data copied while Prosody is stopped: a real copy of what Prosody writes in place
# (appends to message archives), hard links to shared files, which are written once and never
# changed. Both on the same file system: seconds, however large the family's photos.
rm -rf "$copy_dir"
install -d -m 0700 "$copy_dir"
pause_start=$(date +%s%N)
failure="stopping Prosody"
prosody_stopped=yes
{{ STOP_PROSODY }}
failure="copying Prosody's data"
tar -C "$data_path" --exclude='*/http_file_share' -cf - . | tar -C "$copy_dir" -xpf -
for shared in "$data_path"/*/http_file_share; do
    if [ -d "$shared" ]; then
        cp -al "$shared" "$copy_dir/${shared#"$data_path"/}"
    fi
done
failure="starting Prosody"
{{ START_PROSODY }}
prosody_stopped=no
pause_ms=$((($(date +%s%N) - pause_start) / 1000000))
echo "family-xmpp: Prosody paused for ${pause_ms} ms"

backup_output=$(mktemp)
restic_or_fail "sending the backup" backup --host {{ HOSTNAME }} --tag family-xmpp \
    "$copy_dir" {{ MORE_PATHS }} >"$backup_output"
snapshot=$(sed -n 's/^snapshot \([0-9a-f]*\) saved$/\1/p' "$backup_output")
tail -n 6 "$backup_output"
rm -f "$backup_output"
restic_or_fail "forgetting old backups" forget --prune --host {{ HOSTNAME }} --tag family-xmpp \
    {{ KEEP }} >/dev/null
# The repository's structure read back, so that a damaged one is noticed the night it happens.
restic_or_fail "checking the repository" check >/dev/null
record_status ok
echo "family-xmpp: backup $snapshot in $RESTIC_REPOSITORY"
