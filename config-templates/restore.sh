#!/bin/sh
# Rendered by family-xmpp from config-templates/restore.sh: brings the family back from its backup
# repository onto this server, an empty volume or a new server alike. Run it as root over SSH:
#   family-xmpp-restore --list                        the backups there are, oldest first
#   family-xmpp-restore [SNAPSHOT]                    the latest backup, or the one named
#   family-xmpp-restore --password-stdin [SNAPSHOT]   with the password from paper on stdin (a new
#                                                     stack's own password is then added to the
#                                                     repository, so its nightly backups continue)
# Prosody's data (accounts, contacts, history, rooms, shared files) and certbot's certificates are
# replaced by the backup's; Prosody is stopped meanwhile and started again. Prosody's config is not
# restored: the stack writes it (pulumi up).
set -eu

status_file={{ STATUS_FILE }}
copy_dir={{ COPY_DIR }}
restore_dir={{ RESTORE_DIR }}
data_path={{ DATA_PATH }}
data_owner={{ DATA_OWNER }}
letsencrypt={{ LETSENCRYPT }}
certificates_dir={{ CERTIFICATES_DIR }}

snapshot=latest
password_stdin=no
list=no
for argument in "$@"; do
    case "$argument" in
    --password-stdin) password_stdin=yes ;;
    --list) list=yes ;;
    latest | [0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]*) snapshot=$argument ;;
    *)
        echo "usage: family-xmpp-restore [--list] [--password-stdin] [SNAPSHOT]" >&2
        exit 2
        ;;
    esac
done
case "$snapshot" in
*[!0-9a-f]*) [ "$snapshot" = latest ] || {
    echo "family-xmpp: $snapshot is not a snapshot id" >&2
    exit 2
} ;;
*) ;;
esac

if [ "$password_stdin" = yes ]; then
    umask 077
    paper_password=$(mktemp)
    IFS= read -r password
    printf '%s\n' "$password" >"$paper_password"
    RESTIC_PASSWORD_FILE=$paper_password
fi

{{ RESTIC }}

cleanup() {
    rm -rf "$restore_dir"
    if [ -n "${paper_password:-}" ]; then
        rm -f "$paper_password"
    fi
}
trap cleanup EXIT

if [ "$list" = yes ]; then
    restic_or_fail "listing the backups" snapshots --host {{ HOSTNAME }} --tag family-xmpp
    exit
fi

failure=""
rm -rf "$restore_dir"
install -d -m 0700 "$restore_dir"
started=$(date +%s)
if ! restic_or_fail "reading the backup" restore "$snapshot" --host {{ HOSTNAME }} --tag family-xmpp \
    --target "$restore_dir" >/dev/null; then
    echo "family-xmpp: nothing was changed on this server" >&2
    exit 1
fi
if [ ! -d "$restore_dir$copy_dir" ]; then
    echo "family-xmpp: the backup holds no copy of Prosody's data; nothing was changed" >&2
    exit 1
fi

{{ STOP_PROSODY }}
rm -rf "$data_path"
mv "$restore_dir$copy_dir" "$data_path"
chmod 0750 "$data_path"
chown -R "$data_owner" "$data_path"
if [ -d "$restore_dir$letsencrypt" ]; then
    install -d -m 0755 "$letsencrypt"
    find "$letsencrypt" -mindepth 1 -delete
    cp -a "$restore_dir$letsencrypt/." "$letsencrypt/"
fi
if [ -d "$restore_dir$certificates_dir" ]; then
    cp -a "$restore_dir$certificates_dir/." "$certificates_dir/"
fi
{{ START_PROSODY }}

# A password from paper opens the repository; the stack's own is added, for the nightly backups.
if [ "$password_stdin" = yes ] && [ -s "$backup_dir/password" ] &&
    ! RESTIC_PASSWORD_FILE="$backup_dir/password" restic_repository cat config >/dev/null 2>&1; then
    restic_or_fail "adding the stack's password" key add --new-password-file "$backup_dir/password" >/dev/null
    echo "family-xmpp: the stack's password now opens the repository too"
fi
finished=$(date +%s)
echo "restored=$finished" >>"$status_file"
echo "family-xmpp: restored $snapshot from $RESTIC_REPOSITORY in $((finished - started)) s; Prosody runs"
