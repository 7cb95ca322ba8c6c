#!/usr/bin/env bash
# demo.sh BUILD_DIR - the live demo of hcm (`make demo`).
#
# Starts examples/listener and examples/talker (20 Hz) as two processes in a
# private domain, lets them run a few seconds so you see the samples arrive
# with their one-way latency, stops both with SIGINT, and checks that the
# topic was unlinked: nothing of the domain may be left in /dev/shm.
# Exits non-zero if the listener received nothing.
#
# With HCM_DEMO_PYTHON=/path/to/python (a Python with shm_pub_sub and NumPy;
# `make demo` passes the project's .venv), a Python listener reads the same
# C struct topic as a third process: C -> C and C -> Python side by side.
#
# Environment: HCM_DEMO_SECONDS (default 4), HCM_DEMO_DOMAIN (default demo<pid>),
# HCM_DEMO_PYTHON (default: no Python peer).
set -euo pipefail

build=${1:?usage: demo.sh BUILD_DIR}
talker=$build/examples/talker
listener=$build/examples/listener
for exe in "$talker" "$listener"; do
    if [[ ! -x $exe ]]; then
        echo "demo: $exe not found; build first (make build)" >&2
        exit 2
    fi
done

# Our own domain: the demo never touches the topics of $HCM_DOMAIN.
export HCM_DOMAIN=${HCM_DEMO_DOMAIN:-demo$$}
seconds=${HCM_DEMO_SECONDS:-4}
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "demo: HCM_DEMO_SECONDS must be a whole number" >&2; exit 2; }
topic=demo/sensor
shm=/dev/shm
prefix="$shm/hcm.$HCM_DOMAIN."
tpid= lpid= spid= ppid=
python=${HCM_DEMO_PYTHON:-}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

leftovers() { compgen -G "$prefix*" || true; }

# Whatever happens (error, Ctrl-C), stop our processes and remove our segments.
cleanup() {
    local pid
    [[ -z $spid ]] || kill "$spid" 2>/dev/null || true
    for pid in $tpid $lpid $ppid; do
        kill -INT "$pid" 2>/dev/null || true
    done
    for pid in $tpid $lpid $ppid; do
        wait "$pid" 2>/dev/null || true
    done
    local left
    left=$(leftovers)
    [[ -z $left ]] || rm -f -- $left
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "demo: domain $HCM_DOMAIN, topic $topic, talker at 20 Hz for ${seconds} s"

# The listener first: it waits for the topic to appear. Both have a safety
# bound (--seconds) in case this script is killed before it can stop them.
"$listener" "$topic" --seconds $((seconds + 60)) &
lpid=$!
if [[ -n $python ]]; then
    "$python" "$here/examples/python/listener.py" "$topic" --seconds $((seconds + 60)) &
    ppid=$!
    sleep 0.5 # the interpreter and NumPy take a moment to start
fi
sleep 0.3 # let it subscribe, so that it sees the talker's first sample
"$talker" "$topic" --rate 20 --seconds $((seconds + 60)) --unlink &
tpid=$!

# `wait` (unlike a foreground sleep) returns at once when a trapped signal arrives.
sleep "$seconds" &
spid=$!
wait "$spid"

# What the hcm tool sees of it while it runs (not fatal if the tool is missing).
if [[ -x $build/tools/hcm ]]; then
    echo "demo: \$ hcm info $topic"
    "$build/tools/hcm" info "$topic" || true
    echo "demo: \$ hcm hz $topic -n 1"
    "$build/tools/hcm" hz "$topic" -n 1 || true
fi

# Stop the talker first so that the listener sees every sample it sent; the
# talker closes its publisher and unlinks the topic.
kill -INT "$tpid"
trc=0
wait "$tpid" || trc=$?
tpid=
sleep 0.2
kill -INT "$lpid"
lrc=0
wait "$lpid" || lrc=$?
lpid=
prc=0
if [[ -n $ppid ]]; then
    kill -INT "$ppid"
    wait "$ppid" || prc=$?
    ppid=
fi

status=0
[[ $trc -eq 0 ]] || { echo "demo: the talker exited with status $trc" >&2; status=1; }
[[ $lrc -eq 0 ]] || { echo "demo: the listener exited with status $lrc (received nothing?)" >&2; status=1; }
[[ $prc -eq 0 ]] || { echo "demo: the Python listener exited with status $prc (received nothing?)" >&2; status=1; }
left=$(leftovers)
if [[ -n $left ]]; then
    echo "demo: left behind in $shm:" $left >&2
    status=1
fi
if [[ $status -eq 0 ]]; then
    echo "demo: done; nothing left in $shm for domain $HCM_DOMAIN."
    echo "demo: try it by hand: $listener   (and in another terminal)   $talker --unlink"
    echo "demo: and look at it with: $build/tools/hcm list   (docs/cli.md)"
fi
exit $status
