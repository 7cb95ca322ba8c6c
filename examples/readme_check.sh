#!/usr/bin/env bash
# readme_check.sh README HELLO_C - the C example of README.md must be
# examples/hello.c (less its first line, the file's comment), so that the
# README shows code that compiles and is run by the tests.
set -euo pipefail
readme=${1:?usage: readme_check.sh README HELLO_C}
hello=${2:?usage: readme_check.sh README HELLO_C}
if diff -u <(sed 1d "$hello") <(awk '/^```c$/ { f = 1; next } /^```$/ { if (f) exit } f' "$readme"); then
    echo "readme_check: the README example is $hello"
else
    echo "readme_check: the first \`\`\`c block of $readme differs from $hello (above); copy one into the other"
    exit 1
fi
