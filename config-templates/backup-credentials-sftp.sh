# The SSH key for the SFTP repository, one line of base64 on stdin.
IFS= read -r ssh_key
case "$ssh_key" in
"" | *[!A-Za-z0-9+/=]*)
    echo "family-xmpp: the backup's SSH key must arrive as one line of base64" >&2
    exit 1
    ;;
*) ;;
esac
printf '%s\n' "$ssh_key" | base64 -d | write_if_changed "$backup_dir/ssh-key" "$secrets_owner" 0600 || true
# A repository that moved from S3 leaves no access key behind.
rm -f "$backup_dir/s3-access-key-id" "$backup_dir/s3-secret-access-key"
