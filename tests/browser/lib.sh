# Shared by the browser tests (after tests/lib.sh): puppeteer-core from the
# lock file, installed into the build dir (never the tree).

# install_puppeteer BUILD_DIR SCRIPT.mjs...: sets npm_dir; the scripts are
# copied next to node_modules (an ES module resolves its imports from where
# it lies).
install_puppeteer() {
  local build=$1
  shift
  npm_dir=$build/browser
  mkdir -p "$npm_dir"
  cp "$here/package.json" "$here/package-lock.json" "$here/chromium.mjs" "$@" "$npm_dir/"
  if ! cmp -s "$here/package-lock.json" "$npm_dir/node_modules/.package-lock.json.rill" 2>/dev/null; then
    (cd "$npm_dir" && npm ci --no-audit --no-fund --silent) || { echo "npm ci failed"; exit 1; }
    cp "$here/package-lock.json" "$npm_dir/node_modules/.package-lock.json.rill"
  fi
}
