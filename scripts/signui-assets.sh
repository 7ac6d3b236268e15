#!/usr/bin/env bash
# Copies pdf.js (pdfjs-dist) from tools/node_modules into internal/signui/assets/pdfjs/, which go:embed
# puts into the binary for the signing page. Not committed (see internal/signui/assets/README.md).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/tools/node_modules/pdfjs-dist"
dest="$root/internal/signui/assets/pdfjs"
want=4.10.38

if [[ ! -f "$src/package.json" ]]; then
	echo "signui-assets: $src is missing: run 'npm ci' in $root/tools" >&2
	exit 1
fi
got="$(sed -n 's/^  "version": "\([^"]*\)",\{0,1\}$/\1/p' "$src/package.json" | head -n 1)"
if [[ "$got" != "$want" ]]; then
	echo "signui-assets: pdfjs-dist is $got, want $want: run 'npm ci' in $root/tools" >&2
	exit 1
fi

rm -rf "$dest"
mkdir -p "$dest/standard_fonts"
install -m 0644 "$src/build/pdf.min.mjs" "$src/build/pdf.worker.min.mjs" "$src/LICENSE" "$dest/"
install -m 0644 "$src/standard_fonts/"* "$dest/standard_fonts/"
# The bundles name source maps that are not shipped.
sed -i '/^\/\/# sourceMappingURL=/d' "$dest"/*.mjs
echo "signui-assets: copied pdf.js $want to $dest"
