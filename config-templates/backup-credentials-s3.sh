# The S3 access key for the repository: its id, then its secret, one line each on stdin.
IFS= read -r access_key_id
IFS= read -r secret_access_key
for key in "$access_key_id" "$secret_access_key"; do
    case "$key" in
    "" | *[!A-Za-z0-9+/=_-]*)
        echo "family-xmpp: the backup's S3 keys must be letters, digits and + / = _ - only" >&2
        exit 1
        ;;
    *) ;;
    esac
done
printf '%s\n' "$access_key_id" |
    write_if_changed "$backup_dir/s3-access-key-id" "$secrets_owner" 0600 || true
printf '%s\n' "$secret_access_key" |
    write_if_changed "$backup_dir/s3-secret-access-key" "$secrets_owner" 0600 || true
# A repository that moved from SFTP leaves no SSH key behind.
rm -f "$backup_dir/ssh-key" "$backup_dir/ssh_config" "$backup_dir/known_hosts"
