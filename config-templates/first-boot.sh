#!/bin/sh
# Rendered by family-xmpp from config-templates/first-boot.sh; cloud-init runs it once, after the
# packages are installed and the family's files are written.
set -eu

data_mount={{ DATA_MOUNT }}
volume_device={{ VOLUME_DEVICE }}
letsencrypt_on_volume={{ LETSENCRYPT_ON_VOLUME }}
data_path={{ DATA_PATH }}
certificates_dir={{ CERTIFICATES_DIR }}
domain={{ DOMAIN }}
hostname={{ HOSTNAME }}
prosody_secrets_dir={{ PROSODY_SECRETS_DIR }}

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
# A replaced server (a new image, e.g. Debian 12 to 13) may give its prosody user another number
# than the one that wrote the data: Prosody's files on the volume become its own again.
find "$data_path" \( ! -user prosody -o ! -group prosody \) -exec chown -h prosody:prosody {} +

# certbot's account and certificates live on the data volume, so that a rebuilt server keeps its
# certificate instead of asking Let's Encrypt again (at most 5 duplicates a week).
install -d -m 0755 "$letsencrypt_on_volume"
if [ ! -L /etc/letsencrypt ]; then
    if [ -d /etc/letsencrypt ]; then
        cp -an /etc/letsencrypt/. "$letsencrypt_on_volume"/
        rm -rf /etc/letsencrypt
    fi
    ln -s "$letsencrypt_on_volume" /etc/letsencrypt
fi

# Until Let's Encrypt's certificate arrives (the provisioning step asks for it once DNS is in
# place), a self-signed certificate for the domain, so that Prosody serves TLS and nothing else.
if [ ! -s "$certificates_dir/$domain.crt" ]; then
    install -d -m 0755 "$certificates_dir"
    (
        umask 027
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
            -subj "/CN=$domain" -addext "subjectAltName=DNS:$domain,DNS:$hostname" \
            -keyout "$certificates_dir/$domain.key" -out "$certificates_dir/$domain.crt" 2>/dev/null
    )
    # openssl writes keys as 0600 whatever the umask: Prosody's group must be able to read it.
    chgrp prosody "$certificates_dir/$domain.key"
    chmod 0640 "$certificates_dir/$domain.key"
    chmod 0644 "$certificates_dir/$domain.crt"
fi

# Prosody reads the secrets the provisioning step delivers from here (none yet).
install -d -o root -g prosody -m 0750 "$prosody_secrets_dir"

systemctl daemon-reload
systemctl reload ssh
systemctl enable prosody
systemctl restart prosody
