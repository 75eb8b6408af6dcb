#!/bin/sh
# Rendered by family-xmpp from config-templates/obtain-certificate.sh; the provisioning step runs
# it over SSH once the DNS records exist. One Let's Encrypt certificate for every name the family
# uses, by DNS-01 through Cloudflare, so it works wherever the family's website lives. A valid
# certificate already on the data volume (a rebuilt server) is kept: no new request, no rate limit.
set -eu

lineage={{ DOMAIN }}
contact={{ CONTACT_EMAIL }}
staging={{ STAGING }}

# certbot's options as the positional parameters: each one a word of its own, never split or globbed.
set -- --keep-until-expiring --expand
if [ -n "$contact" ]; then
    set -- "$@" --email "$contact"
else
    set -- "$@" --register-unsafely-without-email
fi
if [ "$staging" = true ]; then
    set -- "$@" --staging
elif grep -qs "acme-staging" "/etc/letsencrypt/renewal/$lineage.conf"; then
    # Leaving Let's Encrypt's staging service: its untrusted certificate is replaced now.
    set -- "$@" --force-renewal
fi

certbot certonly --non-interactive --agree-tos "$@" \
    --authenticator dns-cloudflare \
    --dns-cloudflare-credentials {{ CREDENTIALS_FILE }} \
    --dns-cloudflare-propagation-seconds 30 \
    --key-type ecdsa --elliptic-curve secp256r1 \
    --cert-name "$lineage" \
    --deploy-hook {{ IMPORT_HOOK }} \
    {{ NAMES }}

# A kept certificate runs no deploy hook, yet a rebuilt server's Prosody still needs its copy.
{{ IMPORT_HOOK }}
echo "family-xmpp: the certificate for $lineage is in place"
