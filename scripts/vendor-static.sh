#!/bin/sh
# Vendor the front-end libraries into static/vendor/ from the pinned npm packages.
#
# The site serves these files itself (no CDN): run this after changing a version in
# package.json (then `npm install --package-lock-only` first), and commit static/vendor/.
# node_modules/ is only a download area and stays out of git. Chart.js ships its source map
# because the file names it and collectstatic (manifest storage) rewrites that reference.
set -eu

cd "$(dirname "$0")/.."

npm ci --ignore-scripts --no-audit --no-fund

vendor() {
    # vendor <static/vendor name> <npm package> <license file> <dist file>...
    name=$1
    package=$2
    license=$3
    shift 3
    rm -rf "static/vendor/$name"
    mkdir -p "static/vendor/$name"
    cp "$license" "static/vendor/$name/"
    for file in "$@"; do
        cp "$file" "static/vendor/$name/"
    done
    version=$(node -p "require('./node_modules/$package/package.json').version")
    echo "$version" > "static/vendor/$name/VERSION"
    echo "vendored $package $version into static/vendor/$name"
}

vendor htmx.org htmx.org node_modules/htmx.org/LICENSE \
    node_modules/htmx.org/dist/htmx.min.js
vendor chart.js chart.js node_modules/chart.js/LICENSE.md \
    node_modules/chart.js/dist/chart.umd.js node_modules/chart.js/dist/chart.umd.js.map
vendor pico @picocss/pico node_modules/@picocss/pico/LICENSE.md \
    node_modules/@picocss/pico/css/pico.min.css
