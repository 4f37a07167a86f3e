#!/usr/bin/env bash
# System packages some tests need, installed only when missing and only where that is possible:
#   chromium + chromium-driver  headless browser for the HTML report test (and the web app's browser test)
#   fonts-wqy-microhei          a small CJK font, so screenshots and matplotlib charts show Chinese, not boxes
# Idempotent and quiet when everything is there. Without root (or sudo without a password), or without apt,
# it says what is missing and exits 0: the tests that need these skip with a clear reason.
# Usage: bash scripts/system-deps.sh [--check]   (--check: report only, install nothing; exit 1 if missing)
set -uo pipefail

want_bins=(chromium chromedriver)
want_pkgs=(chromium chromium-driver fonts-wqy-microhei)

missing=()
for pkg in "${want_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "${1:-}" = "--check" ]; then
  echo "system-deps: missing: ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: no apt-get here; install ${missing[*]} yourself (browser tests will be skipped)" >&2
  exit 0
fi
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    echo "system-deps: not root and no password-less sudo; install ${missing[*]} yourself" \
      "(browser tests will be skipped)" >&2
    exit 0
  fi
fi
# Other developers on this machine share apt: take the same lock they use, if flock exists.
LOCK=()
command -v flock >/dev/null 2>&1 && LOCK=(flock /tmp/apt.lock)
echo "system-deps: installing ${missing[*]} ..." >&2
export DEBIAN_FRONTEND=noninteractive
if ! "${SUDO[@]}" "${LOCK[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/system-deps.log 2>&1; then
  # a stale package list is the usual reason: refresh once and retry
  "${SUDO[@]}" "${LOCK[@]}" apt-get update -q >>/tmp/system-deps.log 2>&1
  if ! "${SUDO[@]}" "${LOCK[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" \
    >>/tmp/system-deps.log 2>&1; then
    echo "system-deps: could not install ${missing[*]} (see /tmp/system-deps.log); browser tests will be" \
      "skipped" >&2
    exit 0
  fi
fi
for b in "${want_bins[@]}"; do
  command -v "$b" >/dev/null 2>&1 || echo "system-deps: $b still not on PATH after install" >&2
done
exit 0
