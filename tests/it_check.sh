#!/bin/sh
# it_check: `beianctl check` on every generated fixture (expect.tsv) and
# the command line contract (formats, escapes, exit statuses).
exec /usr/bin/python3 "$(dirname "$0")/check_fixtures.py" "${B:-build}"
