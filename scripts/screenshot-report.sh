#!/usr/bin/env bash
# Renders an HTML report (or certificate) with headless Chromium and saves a
# PNG, to look at how the page really renders.
#
#   scripts/screenshot-report.sh report.html [out.png] [WIDTHxHEIGHT]
#
# Needs Debian's chromium package (apt-get install -y chromium). The page is
# self-contained, so Chromium runs with networking features off.
set -euo pipefail
html="${1:?usage: screenshot-report.sh REPORT.html [OUT.png] [WIDTHxHEIGHT]}"
png="${2:-${html%.html}.png}"
size="${3:-1280x1600}"
browser="$(command -v chromium || command -v chromium-browser || true)"
if [[ -z "$browser" ]]; then
  echo "chromium is not installed: apt-get update && apt-get install -y chromium" >&2
  exit 2
fi
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
  --user-data-dir="$profile" --screenshot="$png" --window-size="${size/x/,}" \
  "file://$(realpath "$html")" 2>/dev/null
echo "$png"
