#!/usr/bin/env bash
# run_clean.sh RC CMD [ARGS...] - test wrapper for the examples.
#
# Runs CMD in the domain $HCM_DOMAIN (set by CTest, one per test), passes if
# it exits with status RC and left no segment of that domain in /dev/shm.
set -uo pipefail
want=${1:?usage: run_clean.sh RC CMD [ARGS...]}
shift
: "${HCM_DOMAIN:?run_clean.sh needs HCM_DOMAIN}"
shm=${HCM_SHM_DIR:-/dev/shm}
prefix="$shm/hcm.$HCM_DOMAIN."

leftovers() { compgen -G "$prefix*" || true; }

# A run killed by a timeout may have left segments behind; start clean.
stale=$(leftovers)
if [[ -n $stale ]]; then
    echo "run_clean: removing leftovers of an earlier run:" $stale
    rm -f -- $stale
fi

"$@"
rc=$?

status=0
if [[ $rc -ne $want ]]; then
    echo "run_clean: '$*' exited with $rc, expected $want"
    status=1
fi
left=$(leftovers)
if [[ -n $left ]]; then
    echo "run_clean: left in $shm:" $left
    rm -f -- $left
    status=1
fi
exit $status
