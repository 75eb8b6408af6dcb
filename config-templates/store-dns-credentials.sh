#!/bin/sh
# Rendered by family-xmpp from config-templates/store-dns-credentials.sh; the provisioning step runs
# it over SSH with the Cloudflare token (scoped to DNS edits in the family's zone) on stdin. It
# lands in a root-only file for certbot's DNS plugin: never in user data, never in a log.
set -eu

umask 077
install -d -m 0700 {{ CREDENTIALS_DIR }}
IFS= read -r token
printf 'dns_cloudflare_api_token = %s\n' "$token" >{{ CREDENTIALS_FILE }}.new
mv -f {{ CREDENTIALS_FILE }}.new {{ CREDENTIALS_FILE }}
echo "family-xmpp: DNS credentials for certbot in place"
