#!/usr/bin/env bash
# Copies the browser builds GraphiQL needs from tools/node_modules (installed by `npm ci` in tools/)
# into internal/graphiql/assets/, which go:embed puts into the binary. The copies are not committed
# (see internal/graphiql/assets/.gitignore): run this after `npm ci`, before `go build`.
#
# Only the files the page loads and the packages' licenses are copied: the folder is served as is.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
modules="$root/tools/node_modules"
dest="$root/internal/graphiql/assets"

# The versions the page and its tests were checked with. A different version is refused rather
# than embedded silently: GraphiQL's props and DOM change between majors.
declare -A want=([graphiql]=3.8.3 [react]=18.3.1 [react-dom]=18.3.1)

# version PKG prints the "version" of node_modules/PKG/package.json.
version() {
	sed -n 's/^  "version": "\([^"]*\)",\{0,1\}$/\1/p' "$modules/$1/package.json" | head -n 1
}

for pkg in "${!want[@]}"; do
	if [[ ! -f "$modules/$pkg/package.json" ]]; then
		echo "graphiql-assets: $modules/$pkg is missing: run 'npm ci' in $root/tools" >&2
		exit 1
	fi
	got="$(version "$pkg")"
	if [[ "$got" != "${want[$pkg]}" ]]; then
		echo "graphiql-assets: $pkg is $got, want ${want[$pkg]}: run 'npm ci' in $root/tools" >&2
		exit 1
	fi
done

# Start clean so that a file dropped from this list is not embedded any more.
find "$dest" -mindepth 1 -maxdepth 1 ! -name README.md ! -name .gitignore -exec rm -rf {} +

# copy SRC NAME copies node_modules/SRC to assets/NAME.
copy() {
	install -m 0644 "$modules/$1" "$dest/$2"
}

copy react/umd/react.production.min.js react.production.min.js
copy react/LICENSE react.LICENSE.txt
copy react-dom/umd/react-dom.production.min.js react-dom.production.min.js
copy react-dom/LICENSE react-dom.LICENSE.txt
copy graphiql/graphiql.min.js graphiql.min.js
copy graphiql/graphiql.min.css graphiql.min.css
copy graphiql/LICENSE graphiql.LICENSE.txt

# The bundles end with a sourceMappingURL comment for maps that are not served; drop it so that
# developer tools do not ask for a file that answers 404.
for f in "$dest"/*.js "$dest"/*.css; do
	sed -i '/^\/[/*][#@] sourceMappingURL=/d' "$f"
done

echo "graphiql-assets: copied $(find "$dest" -mindepth 1 -maxdepth 1 ! -name README.md ! -name .gitignore | wc -l) files to $dest"
