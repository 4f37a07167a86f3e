#!/usr/bin/env bash
# System packages for the office-format tests (legacy Word .doc / Kingsoft .wps), installed only when missing
# and only where that is possible:
#   antiword, catdoc             small .doc/.wps text converters (yanreform uses them when found)
#   libreoffice-writer-nogui     LibreOffice headless: converts .doc/.wps keeping tables, and is what the
#                                tests use to make a real .doc file (about 110 MB installed)
# Idempotent and quiet when everything is there. Without root (or sudo without a password), or without apt,
# it says what is missing and exits 0: the tests that need these skip with a clear reason.
# Usage: bash scripts/system-deps-office.sh [--check]   (--check: report only; exit 1 if something is missing)
set -uo pipefail

want_pkgs=(antiword catdoc libreoffice-writer-nogui)

missing=()
for pkg in "${want_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "${1:-}" = "--check" ]; then
  echo "system-deps-office: missing: ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps-office: no apt-get here; install ${missing[*]} yourself (.doc/.wps tests will be skipped)" >&2
  exit 0
fi
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    echo "system-deps-office: not root and no password-less sudo; install ${missing[*]} yourself" \
      "(.doc/.wps tests will be skipped)" >&2
    exit 0
  fi
fi
# Other developers on this machine share apt: take the same lock they use, if flock exists.
LOCK=()
command -v flock >/dev/null 2>&1 && LOCK=(flock /tmp/apt.lock)
echo "system-deps-office: installing ${missing[*]} ..." >&2
export DEBIAN_FRONTEND=noninteractive
log=/tmp/system-deps-office.log
if ! "${SUDO[@]}" "${LOCK[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
  # a stale package list is the usual reason: refresh once and retry
  "${SUDO[@]}" "${LOCK[@]}" apt-get update -q >>"$log" 2>&1
  if ! "${SUDO[@]}" "${LOCK[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
    echo "system-deps-office: could not install ${missing[*]} (see $log); .doc/.wps tests will be skipped" >&2
    exit 0
  fi
fi
exit 0
