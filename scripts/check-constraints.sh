#!/usr/bin/env bash
# Names the installed packages that constraints.txt does not pin (a dependency added since the
# last `make constraints`): a warning on a developer's machine, an error in CI (CI=true).
set -euo pipefail
venv=${1:-.venv}
constraints=${2:-constraints.txt}
unpinned=$("$venv/bin/pip" freeze --exclude-editable | grep -vxFf "$constraints" || true)
[ -z "$unpinned" ] && exit 0
echo "$constraints does not pin: $(echo "$unpinned" | tr '\n' ' ')- run \`make constraints\`" >&2
[ "${CI:-}" = "true" ] && exit 1
exit 0
