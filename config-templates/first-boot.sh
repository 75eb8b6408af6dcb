#!/bin/sh
# Rendered by family-xmpp from config-templates/first-boot.sh; cloud-init runs it once, after the
# packages are installed and the family's files are written.
set -eu

data_mount={{ DATA_MOUNT }}
volume_device={{ VOLUME_DEVICE }}
data_path={{ DATA_PATH }}
certificates_dir={{ CERTIFICATES_DIR }}
domain={{ DOMAIN }}
hostname={{ HOSTNAME }}

# The data volume, by id, in /etc/fstab; "nofail": a missing volume never blocks a boot (Prosody,
# which requires the mount, waits instead). The volume is attached moments after the server is
# created, possibly after this script started: wait for it, then mount it. Without it Prosody
# stays stopped, so that no account is ever written to the system disk.
if ! grep -qs "^$volume_device " /etc/fstab; then
    echo "$volume_device $data_mount ext4 discard,nofail,defaults 0 2" >>/etc/fstab
    systemctl daemon-reload
fi
install -d -m 0755 "$data_mount"
waited=0
until mountpoint -q "$data_mount"; do
    if [ -b "$volume_device" ]; then
        mount "$data_mount"
    elif [ "$waited" -ge 300 ]; then
        echo "family-xmpp: the data volume $volume_device did not appear within 5 minutes" >&2
        exit 1
    else
        sleep 1
        waited=$((waited + 1))
    fi
done
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
