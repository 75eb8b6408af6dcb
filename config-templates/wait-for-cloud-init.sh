#!/bin/sh
# Rendered by family-xmpp from config-templates/wait-for-cloud-init.sh; the provisioning step runs
# it over SSH. It waits for the first boot to finish and fails, with cloud-init's own report, if
# the first boot did not succeed.
set -u

status=0
cloud-init status --wait >/dev/null || status=$?
# 0: done; 2: done, with warnings only (newer cloud-init releases)
if [ "$status" -ne 0 ] && [ "$status" -ne 2 ]; then
    echo "family-xmpp: the server's first boot (cloud-init) failed:" >&2
    cloud-init status --long >&2 || true
    tail -n 40 /var/log/cloud-init-output.log >&2 || true
    exit 1
fi
echo "family-xmpp: first boot finished"
