#!/usr/bin/env bash
# Make sure Chromium is here for the browser tests (headless; Playwright drives it, nothing is downloaded).
# As root on Debian, install Debian's package; elsewhere, say what to install.
set -euo pipefail

for candidate in chromium chromium-browser; do
    command -v "$candidate" >/dev/null 2>&1 && exit 0
done
if [ "$(id -u)" -eq 0 ] && [ -f /etc/debian_version ] && command -v apt-get >/dev/null; then
    echo "browser: installing chromium from Debian's archive (about a minute)"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >/dev/null
    exit 0
fi
cat >&2 <<'MSG'
browser: the browser tests need Chromium on the PATH as `chromium`.
  Debian/Ubuntu: apt-get install chromium (or chromium-browser); Fedora: dnf install chromium;
  macOS: install Chromium and link it as `chromium`.
MSG
exit 1
