# restic with the family's repository: its password and credentials are the files the backup
# step delivered over SSH (RESTIC_PASSWORD_FILE may name another password: the restore's).
backup_dir={{ BACKUP_DIR }}
export RESTIC_REPOSITORY={{ REPOSITORY }}
export RESTIC_PASSWORD_FILE="${RESTIC_PASSWORD_FILE:-$backup_dir/password}"
restic_repository() {
    {{ RESTIC_COMMAND }}
}

# restic_or_fail WHAT ARGS...: restic, or a line saying what failed and why (restic's own last
# words, a wrong password named as such) on stderr and in $failure, and a non-zero status.
restic_or_fail() {
    what=$1
    shift
    restic_errors=$(mktemp)
    if restic_repository "$@" 2>"$restic_errors"; then
        rm -f "$restic_errors"
        return 0
    fi
    if grep -q "wrong password" "$restic_errors"; then
        failure="$what: the repository password does not open $RESTIC_REPOSITORY (wrong password)"
    else
        failure="$what: $(grep -v '^ *$' "$restic_errors" | tail -n 3 | tr '\n' ' ' | tr -cd '[:print:]' | cut -c 1-400)"
    fi
    rm -f "$restic_errors"
    echo "family-xmpp: $failure" >&2
    return 1
}

# open_repository: the repository opens with this password; one that is not there yet is made,
# one that cannot be opened is an error, never replaced.
open_repository() {
    opening_errors=$(mktemp)
    if restic_repository cat config >/dev/null 2>"$opening_errors"; then
        rm -f "$opening_errors"
        return 0
    fi
    if grep -q "Is there a repository at the following location" "$opening_errors"; then
        rm -f "$opening_errors"
        restic_or_fail "making the repository" init >/dev/null || return 1
        echo "family-xmpp: made the repository $RESTIC_REPOSITORY"
        return 0
    fi
    rm -f "$opening_errors"
    restic_or_fail "opening the repository" cat config >/dev/null
}
