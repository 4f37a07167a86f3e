#!/usr/bin/env bash
# System (Debian) packages some tests need, installed only when missing and only where that is possible.
#   browser: chromium + chromium-driver (headless browser for the HTML report and web app tests) and
#            fonts-wqy-microhei (a small CJK font, so screenshots and charts show Chinese, not boxes)
#   office:  antiword, catdoc (small .doc/.wps converters yanreform uses when found) and
#            libreoffice-writer-nogui (LibreOffice headless: converts .doc/.wps keeping tables; the tests use
#            it to make real .doc files; about 110 MB installed)
# Idempotent and quiet when everything is there. Without root (or password-less sudo), or without apt, it says
# what is missing and exits 0: the tests that need these skip with a clear reason.
# Usage: bash scripts/system-deps.sh [--check] [browser] [office]   (no group: both; --check: report only,
#        install nothing, exit 1 if something is missing)
set -uo pipefail

check=0
groups=()
for a in "$@"; do
  case "$a" in
    --check) check=1 ;;
    browser|office) groups+=("$a") ;;
    *) echo "usage: bash scripts/system-deps.sh [--check] [browser] [office]" >&2; exit 2 ;;
  esac
done
[ ${#groups[@]} -eq 0 ] && groups=(browser office)
want_pkgs=()
for g in "${groups[@]}"; do
  case "$g" in
    browser) want_pkgs+=(chromium chromium-driver fonts-wqy-microhei) ;;
    office) want_pkgs+=(antiword catdoc libreoffice-writer-nogui) ;;
  esac
done

missing=()
for pkg in "${want_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$check" -eq 1 ]; then
  echo "system-deps: missing: ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: no apt-get here; install ${missing[*]} yourself (the tests that need them skip)" >&2
  exit 0
fi
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    echo "system-deps: not root and no password-less sudo; install ${missing[*]} yourself" \
      "(the tests that need them skip)" >&2
    exit 0
  fi
fi
# Several processes may run this at once (tests call it too): take one lock around apt, if flock exists.
LOCK=()
command -v flock >/dev/null 2>&1 && LOCK=(flock /tmp/apt.lock)
echo "system-deps: installing ${missing[*]} ..." >&2
export DEBIAN_FRONTEND=noninteractive
log=/tmp/system-deps.log
if ! "${SUDO[@]}" "${LOCK[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
  # a stale package list is the usual reason: refresh once and retry
  "${SUDO[@]}" "${LOCK[@]}" apt-get update -q >>"$log" 2>&1
  if ! "${SUDO[@]}" "${LOCK[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
    echo "system-deps: could not install ${missing[*]} (see $log); the tests that need them skip" >&2
    exit 0
  fi
fi
exit 0
