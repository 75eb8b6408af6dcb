#!/bin/sh
# Rendered by family-xmpp from config-templates/first-boot.sh; cloud-init runs it once, after the
# packages are installed and the family's files are written.
set -eu

data_mount={{ DATA_MOUNT }}
data_path={{ DATA_PATH }}
certificates_dir={{ CERTIFICATES_DIR }}
domain={{ DOMAIN }}
hostname={{ HOSTNAME }}

if ! mountpoint -q "$data_mount"; then
    echo "family-xmpp: the data volume is not mounted at $data_mount; Prosody stays stopped so that no account is written to the system disk" >&2
    exit 1
fi
install -d -o prosody -g prosody -m 0750 "$data_path"

# A self-signed certificate for the domain, so that Prosody serves TLS (and nothing without it)
# from the first minute. Apps show its fingerprint for the family to accept.
if [ ! -s "$certificates_dir/$domain.crt" ]; then
    install -d -m 0755 "$certificates_dir"
    (
        umask 027
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
            -subj "/CN=$domain" -addext "subjectAltName=DNS:$domain,DNS:$hostname" \
            -keyout "$certificates_dir/$domain.key" -out "$certificates_dir/$domain.crt" 2>/dev/null
    )
    chgrp prosody "$certificates_dir/$domain.key"
    chmod 0644 "$certificates_dir/$domain.crt"
fi

systemctl daemon-reload
systemctl reload ssh
systemctl enable prosody
systemctl restart prosody
