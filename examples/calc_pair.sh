#!/usr/bin/env bash
# calc_pair.sh SERVER CLIENT [PYTHON] - runs the calc service example: the C
# server in the background, the C client (and the Python client if a Python
# with shm_service is given) against it, then stops the server (SIGINT) and
# checks its exit. Exit 0 if every client succeeded.
set -euo pipefail
server=$1 client=$2 python=${3:-}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
"$server" --seconds 30 --unlink &
spid=$!
trap 'kill -INT $spid 2>/dev/null || true; wait $spid 2>/dev/null || true' EXIT
status=1
for _ in $(seq 50); do # the client fails fast (HCM_ENOENT) until the server is up
    if "$client" --count 3; then
        status=0
        break
    fi
    sleep 0.1
done
if [[ -n $python ]]; then
    "$python" "$here/python/calc_client.py" --count 3 || status=1
fi
kill -INT $spid
wait $spid || status=1
trap - EXIT
exit $status
