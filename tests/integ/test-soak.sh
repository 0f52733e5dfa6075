#!/bin/bash
# The soak (tests/soak/soak.sh) for 3 minutes, as CI runs it: a flood, rule
# churn, link flaps, perimd SIGKILLs, bursts of 500 clients and a followed
# event stream at once; its verdicts are this file's PASS/FAIL lines.
# PERIM_SOAK_SECONDS sets another length (make soak runs 30 minutes).
exec env DURATION="${PERIM_SOAK_SECONDS:-180}" bash "$(dirname "$0")/../soak/soak.sh"
