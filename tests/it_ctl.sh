#!/bin/sh
# it_ctl: beianctl's store verbs end to end (submit, verify, review,
# handback, withdraw, list/show/status/outbox/quarantine, retry, requeue,
# import, password-reset, backup) against a temporary state folder.
exec /usr/bin/python3 "$(dirname "$0")/ctl_flow.py" "${B:-build}"
