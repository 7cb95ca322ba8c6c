#!/usr/bin/env bash
# talk_listen.sh TALKER LISTENER - talker and listener as two processes.
#
# The listener stops by itself after 20 samples (--count); the talker runs
# until SIGTERM and unlinks its topic at exit (--unlink). Passes if both exit
# 0 and the listener's summary says it received 20. run_clean.sh checks that
# nothing is left in /dev/shm.
set -euo pipefail
talker=${1:?usage: talk_listen.sh TALKER LISTENER}
listener=${2:?usage: talk_listen.sh TALKER LISTENER}
topic=test/pair
out=$(mktemp)
tpid=
cleanup() {
    [[ -n $tpid ]] && kill -TERM "$tpid" 2>/dev/null || true
    rm -f "$out"
}
trap cleanup EXIT

"$listener" "$topic" --count 20 --seconds 15 >"$out" &
lpid=$!
"$talker" "$topic" --rate 50 --seconds 20 --unlink &
tpid=$!

lrc=0
wait "$lpid" || lrc=$?
kill -TERM "$tpid"
trc=0
wait "$tpid" || trc=$?
tpid=

cat "$out"
grep -q '^listener: received 20, ' "$out" || { echo "talk_listen: no summary of 20 samples"; exit 1; }
[[ $lrc -eq 0 ]] || { echo "talk_listen: listener exited with $lrc"; exit 1; }
[[ $trc -eq 0 ]] || { echo "talk_listen: talker exited with $trc"; exit 1; }
echo "talk_listen: ok"
