# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# The demo's first boot: the machine as it is today. vfio-bind is installed and its unit enabled,
# but there is no /etc/vfio-bind.conf yet, so the service does not start and the host drivers
# take everything.

DESCRIPTION="the machine today: vfio-bind installed, nothing configured"

checks() {
        show "vfio-bind groups" "$VB_CLI" groups
        show "vfio-bind check --config=/vm/planned.conf   # the configuration you are about to write" \
                "$VB_CLI" check --config=/vm/planned.conf
}

payload() {
        printf '%s\n' "$DEMO_CONF" > "$1/vm/planned.conf"
}
