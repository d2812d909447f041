#!/usr/bin/env bash
# Renders the demo digest (the demo run on 2026-11-28, then on 2026-11-29 against the same
# ledger, so it has history) with headless Chromium, light and dark, 600 px and 375 px wide, into
# docs/screenshots/. Needs Debian's chromium (apt-get install chromium).
#
#   bash docs/screenshots.sh
#
# Headless Chromium's window is never narrower than 500 px, so each width is an iframe of that
# width in a wrapper page: the digest's media queries see the iframe's width, as a phone's mail
# client would show it. Dark mode is the prefers-color-scheme preference, not a forced filter.
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/screenshots
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# English (the demo as shipped) and Swedish (the same with language = "sv"): *-sv.png.
for lang in en sv; do
  dir="$work/$lang"
  mkdir -p "$dir"
  cp examples/demo.toml examples/alerts.json examples/names.csv "$dir/"
  if [[ $lang == sv ]]; then
    sed -i -e 's/^language = "en"/language = "sv"/' -e '/^subject = /d' "$dir/demo.toml"
  fi
  # The day before first, so the digest has a previous one to compare with.
  for as_of in 2026-11-28T07:00:00Z 2026-11-29T07:00:00Z; do
    CSP_DIGEST_LOG=error cargo run --quiet -- run --config "$dir/demo.toml" --as-of "$as_of"
  done
  digest="$dir/out/2026-11-29/digest.html"
  [[ -f $digest ]] || { echo "the demo wrote no digest.html" >&2; exit 1; }
  suffix=""
  [[ $lang == sv ]] && suffix="-sv"

  mkdir -p "$out"
  height=1800
  for width in 600 375; do
    page="$dir/frame-$width.html"
    cat >"$page" <<HTML
<!DOCTYPE html><html><head><meta charset="utf-8"><title>digest at ${width}px</title>
<style>html,body{margin:0;padding:0}iframe{border:0;display:block}</style></head>
<body><iframe src="file://$digest" width="$width" height="$height"></iframe></body></html>
HTML
    for scheme in light dark; do
      [[ $scheme == dark ]] && preference=0 || preference=1
      shot="$out/digest-$width-$scheme$suffix.png"
      chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$dir/profile-$width-$scheme" --hide-scrollbars \
        --blink-settings=preferredColorScheme=$preference \
        --window-size="$width,$height" --screenshot="$shot" \
        "file://$page" >/dev/null 2>&1
      echo "$shot"
    done
  done
done
