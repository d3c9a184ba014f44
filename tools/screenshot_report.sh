#!/usr/bin/env bash
# Screenshot a `microexp demo` report with headless Chromium and check the browser's console.
#   tools/screenshot_report.sh DEMO_DIR [OUT.png] [WIDTHxHEIGHT]
# Needs a `chromium` binary (Debian: apt-get install -y chromium). Exits non-zero when the page
# is missing, no screenshot was written, or the console shows errors for the page (a resource
# that failed to load, a JavaScript error) or index.html refers to a file that does not exist. Chromium's own start-up noise (D-Bus, GPU, sandbox)
# is filtered out; the full log is kept beside the PNG as OUT.log.
set -euo pipefail
demo=${1:?usage: tools/screenshot_report.sh DEMO_DIR [OUT.png] [WIDTHxHEIGHT]}
out=${2:-$demo/report/screenshot.png}
size=${3:-1280x4000}
page=$(cd "$demo/report" && pwd)/index.html
[[ -f $page ]] || { echo "ERROR: no report at $page (run: microexp report $demo)" >&2; exit 1; }
# Chromium logs nothing for a missing file:// image, so check every src/href beside the page
missing=0
while IFS= read -r ref; do
  [[ -e "$(dirname "$page")/$ref" ]] || { echo "ERROR: index.html refers to missing $ref" >&2; missing=1; }
done < <(grep -oE '(src|href)="[^"#:]*"' "$page" | sed -E 's/^(src|href)="//; s/"$//')
[[ $missing == 0 ]] || exit 1
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[[ -n $browser ]] || { echo "ERROR: no chromium; apt-get install -y chromium" >&2; exit 1; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
log=${out%.png}.log
rm -f "$out"
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --enable-logging=stderr --v=0 \
  --window-size="${size/x/,}" --screenshot="$out" "file://$page" >"$log" 2>&1 || true
[[ -s $out ]] || { echo "ERROR: no screenshot written; see $log" >&2; tail -20 "$log" >&2; exit 1; }
# console messages about the page itself: failed loads, JS errors, CONSOLE(...) lines
if grep -E "CONSOLE|Failed to load|net::ERR_|Uncaught|Not allowed to load" "$log" >&2; then
  echo "ERROR: the browser console reported problems with $page (full log: $log)" >&2
  exit 1
fi
echo "screenshot: $out ($size) of $page; console clean (log: $log)"
