# --- family-xmpp's shell library (config-templates/lib.sh), put into every script it renders ---

# prosodyctl ARGS...: this server's prosodyctl.
prosodyctl() {
    {{ PROSODYCTL }} "$@"
}

# prosody_running: whether Prosody runs (and so whether there is anything to reload).
prosody_running() {
    prosodyctl status >/dev/null 2>&1
}

# write_if_changed PATH OWNER MODE, with the new content on stdin: replaces PATH atomically if the
# content differs and says so; owner and mode are made right either way. Succeeds only when the
# content changed, so that callers reload only what changed.
write_if_changed() {
    [ -d "$(dirname "$1")" ] || install -d -m 0755 "$(dirname "$1")"
    new=$(mktemp "$1.XXXXXX")
    cat >"$new"
    chown "$2" "$new"
    chmod "$3" "$new"
    if cmp -s "$new" "$1"; then
        rm -f "$new"
        chown "$2" "$1"
        chmod "$3" "$1"
        return 1
    fi
    mv -f "$new" "$1"
    echo "family-xmpp: updated $1"
}

# --- end of the library ---
