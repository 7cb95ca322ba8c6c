#!/usr/bin/env bash
# cli_smoke.sh HCM - one pass over the hcm tool's commands in a private domain,
# run by CTest in every build (under ASan+UBSan with leak checking in
# `make check`), so that a leak or an invalid access in the tool fails there.
# The behaviour of each command is tested in tests/python/test_cli.py.
set -euo pipefail
hcm=${1:?usage: cli_smoke.sh HCM}
export HCM_DOMAIN=smoke$$
trap '"$hcm" clean >/dev/null 2>&1 || true; rm -f /dev/shm/hcm.$HCM_DOMAIN.* 2>/dev/null || true' EXIT
expect() { # expect CODE CMD...: runs CMD, fails unless it exits with CODE
    local want=$1 rc=0
    shift
    "$@" >/dev/null 2>&1 || rc=$?
    [[ $rc -eq $want ]] || { echo "cli_smoke: '$*' exited $rc, expected $want" >&2; exit 1; }
}
expect 0 "$hcm" --help
expect 0 "$hcm" list
expect 0 "$hcm" pub a/f 1.5 --type float64
expect 0 "$hcm" pub a/arr '[[1,2],[3,4]]' --type 'uint16[2,2]'
expect 0 "$hcm" pub a/p '[1, -2, 3.5]' --type 'struct:P:<qqd'
expect 0 "$hcm" pub a/s 'text' --type string --rate 1000 -n 5
expect 0 "$hcm" echo a/arr --latest --once --json
expect 0 "$hcm" echo a/p --latest --once
expect 0 "$hcm" list --json
expect 0 "$hcm" info a/s --json
expect 0 "$hcm" top -n 1 --interval 0.1
expect 1 "$hcm" info missing
expect 1 "$hcm" call missing 1
expect 2 "$hcm" pub a/f notanumber
expect 2 "$hcm" nosuchcommand
expect 0 "$hcm" clean --dry-run --json
expect 0 "$hcm" clean
[[ -z $(compgen -G "/dev/shm/hcm.$HCM_DOMAIN.*" || true) ]] || { echo "cli_smoke: clean left segments" >&2; exit 1; }
echo "cli_smoke: ok"
