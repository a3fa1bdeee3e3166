#!/usr/bin/env bash
# System packages a fresh Debian machine needs: WeasyPrint's Pango/HarfBuzz, fonts, poppler;
# Chromium for the web app's browser tests (Playwright drives /usr/bin/chromium).
# Installs only what is missing; needs root (or sudo) the first time. While another apt/dpkg
# process holds apt's or dpkg's lock it waits (at most APT_LOCK_WAIT seconds, default 600).
set -euo pipefail
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-dejavu-core poppler-utils
  chromium)
LOCK_WAIT=${APT_LOCK_WAIT:-600}
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"

deadline=$((SECONDS + LOCK_WAIT))
told=""

# apt-get "$@", retried every 5 s while the failure is a lock another process holds.
apt_get() {
    local out
    while true; do
        if out=$($SUDO env DEBIAN_FRONTEND=noninteractive apt-get "$@" 2>&1); then
            [ -z "$out" ] || printf '%s\n' "$out"
            return 0
        fi
        if ! grep -qiE "could not get lock|unable to (acquire|lock)" <<<"$out" \
            || ((SECONDS >= deadline)); then
            printf '%s\n' "$out" >&2
            [ -z "$told" ] || echo "system-deps: gave up after waiting ${LOCK_WAIT}s for the lock" >&2
            return 1
        fi
        if [ -z "$told" ]; then
            echo "system-deps: another apt/dpkg process holds the lock; waiting (at most ${LOCK_WAIT}s)" >&2
            told=1
        fi
        sleep 5
    done
}

apt_get update -qq
apt_get install -y -qq "${missing[@]}"
