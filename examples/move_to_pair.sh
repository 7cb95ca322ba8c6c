#!/usr/bin/env bash
# move_to_pair.sh SERVER CLIENT [succeed|cancel] - runs the move_to action
# example: the server in the background, one goal from the client against
# it, then stops the server (SIGINT) and checks its exit.
#   succeed  target 8 (8 steps of 20 ms): the client must print feedback and
#            end SUCCEEDED at 8.000;
#   cancel   target 50 with --cancel-after 3: the client must cancel after 3
#            feedbacks and end CANCELED short of 50.
# Exit 0 if the goal ended as expected and the server exited cleanly.
set -euo pipefail
server=$1 client=$2 mode=${3:-succeed}
out=$(mktemp)
"$server" --seconds 30 --step-ms 20 --unlink &
spid=$!
trap 'kill -INT $spid 2>/dev/null || true; wait $spid 2>/dev/null || true; rm -f "$out"' EXIT
status=0
check() { # check REGEX WHAT
    if ! grep -Eq "$1" "$out"; then
        echo "move_to_pair: $2 (no line matching '$1')"
        status=1
    fi
}
case $mode in
succeed)
    # --wait: the client retries while the server is not up yet
    "$client" --target 8 --wait 10 --timeout 20 | tee "$out" || status=1
    check '^move_to_client: feedback [0-9]+: position +[0-9.]+' "no feedback printed"
    check '^move_to_client: status executing$' "never saw EXECUTING"
    check '^move_to_client: succeeded at position 8\.000 ' "did not end SUCCEEDED at 8"
    ;;
cancel)
    "$client" --target 50 --cancel-after 3 --wait 10 --timeout 20 | tee "$out" || status=1
    check '^move_to_client: canceling after [3-9] feedbacks \(--cancel-after\)$' "no cancel after 3"
    check '^move_to_client: status canceling$' "never saw CANCELING"
    check '^move_to_client: canceled at position ([0-9]|[1-4][0-9])\.[0-9]{3} ' \
        "did not end CANCELED short of 50"
    ;;
*)
    echo "move_to_pair: mode must be succeed or cancel, not '$mode'"
    exit 2
    ;;
esac
kill -INT $spid
wait $spid || { echo "move_to_pair: the server exited with $?"; status=1; }
trap 'rm -f "$out"' EXIT
exit $status
