#!/usr/bin/env bash
# The layering, checked from the sources (docs/architecture.md, "Layers"):
#   apps/  -> runtime/, actors/, testing (tests/support), its own files
#   runtime/ -> actors/                     (never apps/ or tests/)
#   actors/  -> actors/ only                (never runtime/, apps/ or tests/)
#   tests/support (rill::testing) -> runtime/, actors/
# Every project include goes through the <rill/...> root (a quoted include of
# a library header would bypass the build's include roots), and no source file
# in actors/ or runtime/ is longer than 450 lines.
set -u
cd "${LAYERS_ROOT:-$(dirname "$0")/..}"
status=0
fail() { echo "layers: $*"; status=1; }

allowed_for() { # folder -> the rill/ prefixes its files may include
  case "$1" in
    actors) echo "actors" ;;
    runtime) echo "actors runtime" ;;
    tests/support) echo "actors runtime testing" ;;
    *) echo "actors runtime testing" ;;
  esac
}

check_folder() {
  local folder=$1 allowed
  allowed=$(allowed_for "$folder")
  while IFS=: read -r file line text; do
    if [[ $text =~ \#include[[:space:]]*\<rill/([a-z_]+)/ ]]; then
      local layer=${BASH_REMATCH[1]}
      [[ " $allowed " == *" $layer "* ]] \
        || fail "$file:$line includes <rill/$layer/...>, a layer above $folder"
    elif [[ $text =~ \#include[[:space:]]*\"([^\"]+)\" ]]; then
      local inc=${BASH_REMATCH[1]}
      case "$folder" in
        actors | runtime | tests/support)
          fail "$file:$line: quoted include \"$inc\"; library headers use <rill/...>" ;;
        *) [[ $inc == */* && $inc != rill/* ]] \
             && fail "$file:$line: \"$inc\" reaches into another folder; use <rill/...>" ;;
      esac
    fi
  done < <(grep -rn --include='*.hpp' --include='*.cpp' '#include' "$folder")
}

for folder in actors runtime tests/support apps tests/unit tests/integration; do
  [[ -d $folder ]] || continue
  check_folder "$folder"
done

while read -r lines file; do
  [[ $file == total ]] && continue
  ((lines > 450)) && fail "$file has $lines lines (the limit in actors/ and runtime/ is 450)"
done < <(find actors runtime -name '*.?pp' -print0 | xargs -0 wc -l)

# The check itself: a tree with a planted upward include and a long file must fail.
if [[ -z ${LAYERS_ROOT:-} ]]; then
  probe=$(mktemp -d)
  trap 'rm -rf "$probe"' EXIT
  mkdir -p "$probe/actors" "$probe/runtime"
  echo '#include <rill/runtime/config.hpp>' > "$probe/actors/probe.hpp"
  out=$(LAYERS_ROOT=$probe bash "$0")
  [[ $out == *"includes <rill/runtime/...>"* ]] || fail "the check missed a planted upward include"
  echo '#include <rill/actors/error.hpp>' > "$probe/actors/probe.hpp"
  seq 451 > "$probe/runtime/long.cpp"
  out=$(LAYERS_ROOT=$probe bash "$0")
  [[ $out == *"long.cpp has 451 lines"* && $out != *includes* ]] \
    || fail "the self-test tree was judged wrongly: $out"
fi
[[ $status == 0 && -z ${LAYERS_ROOT:-} ]] && echo "layers: ok"
exit $status
