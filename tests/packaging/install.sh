#!/usr/bin/env bash
# rill as a library a project links: install the build into a scratch prefix,
# then build the order_consumer example as a project of its own against that
# prefix only (copied out of the source tree, so no source or build path can
# leak in), run it on a private redis-server and check what Redis holds.
# Then the same with the Debian packages (cpack -G DEB) unpacked into a scratch
# root with dpkg -x.
# Usage: install.sh BUILD_DIR SOURCE_DIR
. "$(dirname "$0")/../lib.sh"
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
prefix=$dir/prefix

# build_example NAME ROOT: copies apps/examples/NAME out of the tree to
# $dir/NAME and builds it as a project of its own against ROOT only.
build_example() {
  rm -rf "${dir:?}/$1"
  cp -r "$src/apps/examples/$1" "$dir/$1"
  cmake -S "$dir/$1" -B "$dir/$1/build" -DCMAKE_PREFIX_PATH="$2" \
    -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DCMAKE_BUILD_TYPE=Release >"$dir/$1.log" 2>&1 &&
    cmake --build "$dir/$1/build" -j 2 >>"$dir/$1.log" 2>&1
  local rc=$?
  [ $rc -eq 0 ] || tail -20 "$dir/$1.log"
  return $rc
}

cmake --install "$build" --prefix "$prefix" >"$dir/install.log" 2>&1
check "cmake --install into a scratch prefix" test $? -eq 0
check "the library carries its SONAME" \
  bash -c "readelf -d '$prefix/lib/librill.so.0.1' | grep -q 'SONAME.*librill.so.0.1'"
check "the tool is installed" test -x "$prefix/bin/rill"
check "the umbrella header is installed" test -f "$prefix/include/rill/rill.hpp"
check "internal headers are not installed" \
  test ! -e "$prefix/include/rill/actors/reader_state.hpp" -a ! -e "$prefix/include/rill/actors/reader"
check "the CMake package and pkg-config file are installed" \
  test -f "$prefix/lib/cmake/rill/rillConfig.cmake" -a -f "$prefix/lib/pkgconfig/rill.pc"

# Every installed header compiles on its own with nothing but the prefix
# (and the system) on the include path.
bad=0
while IFS= read -r header; do
  if ! echo "#include <${header#"$prefix/include/"}>" \
      | g++ -std=c++17 -fsyntax-only -I"$prefix/include" -x c++ - 2>>"$dir/headers.log"; then
    echo "  does not compile alone: $header"
    bad=$((bad + 1))
  fi
done < <(find "$prefix/include" -name '*.hpp')
check "22 public headers are installed" test "$(find "$prefix/include" -name '*.hpp' | wc -l)" -eq 22
check "every installed header compiles against the prefix alone" test "$bad" -eq 0

# The README's C++ example is this example's code, from its first include on.
sed -n '/^```cpp$/,/^```$/p' "$src/README.md" | sed '1d;$d' >"$dir/readme.cpp"
sed -n '/^#include <rill\/rill.hpp>/,$p' "$src/apps/examples/order_consumer/main.cpp" >"$dir/example.cpp"
check "the README's C++ example is apps/examples/order_consumer/main.cpp" \
  diff -u "$dir/example.cpp" "$dir/readme.cpp"

# The example as a new project: find_package(rill CONFIG REQUIRED) + rill::rill.
check "the example builds against the installed package" build_example order_consumer "$prefix"
check "no source or build path reaches the example's compile flags" \
  bash -c "! grep -qF -e '$src' -e '$build' '$dir/order_consumer/build/compile_commands.json'"
check "the example links the installed library" \
  bash -c "LD_LIBRARY_PATH='$prefix/lib' ldd '$dir/order_consumer/build/order_consumer' | grep -q '$prefix/lib/librill.so.0.1'"
check "a test of an app's callbacks builds against rill::testing from the prefix" \
  build_example callback_test "$prefix"
LD_LIBRARY_PATH="$prefix/lib" "$dir/callback_test/build/callback_test" >"$dir/cbtest.out" 2>&1
check "... and passes without Redis (virtual time)" test $? -eq 0
check "... without CAF's unit-test engine in it" \
  bash -c "! nm -C '$dir/callback_test/build/callback_test' | grep -q 'caf::test::'"
check "the word count example builds against the installed package" \
  build_example word_count "$prefix"
check "the fan-in example builds against the installed package" build_example fan_in "$prefix"
check "the exactly-once pipeline example builds against the installed package" \
  build_example order_pipeline "$prefix"

# As a subproject (add_subdirectory): the same rill::rill, only the library,
# no CTest in the parent. Configured, not built (the build above proves the
# library; building it twice would double this tier's time).
mkdir -p "$dir/parent"
cat >"$dir/parent/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.16)
project(parent LANGUAGES CXX)
add_subdirectory("$src" rill)
add_subdirectory("$dir/order_consumer" example)
if(DEFINED BUILD_TESTING)
  message(FATAL_ERROR "rill turned on BUILD_TESTING in its parent")
endif()
foreach(t IN ITEMS rill_bin rill_testing rill_unit_tests)
  if(TARGET \${t})
    message(FATAL_ERROR "rill added \${t} as a subproject")
  endif()
endforeach()
get_target_property(linked order_consumer LINK_LIBRARIES)
message(STATUS "order_consumer links: \${linked}")
CMAKE
cmake -S "$dir/parent" -B "$dir/parent/build" >"$dir/parent.log" 2>&1
rc=$?
check "as a subproject rill adds only the library and no CTest" test $rc -eq 0
[ $rc -eq 0 ] || tail -20 "$dir/parent.log"
check "as a subproject the example links the same rill::rill" \
  grep -q "order_consumer links: rill::rill" "$dir/parent.log"

# pkg-config finds the same library and headers.
pc_flags=$(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs rill 2>&1)
check "pkg-config --cflags --libs rill names the prefix" \
  bash -c "[[ '$pc_flags' == *'-I$prefix/lib/pkgconfig/../../include'* && '$pc_flags' == *-lrill* ]]"

# It runs: 100 good orders and 3 bad ones, all settled, the ledger right.
start_redis
for i in $(seq 0 99); do
  echo "XADD orders * customer c$((i % 4)) amount $i"
done | rcli >/dev/null
rcli XADD orders '*' customer c0 >/dev/null              # no amount
rcli XADD orders '*' customer c1 amount 'ten' >/dev/null # not a number
rcli XADD orders '*' amount 5 >/dev/null                 # no customer
# run_orders LIBDIR LABEL: runs the built order_consumer on the 103 orders
# and checks what Redis holds afterwards.
run_orders() {
  LD_LIBRARY_PATH="$1" timeout 60 "$dir/order_consumer/build/order_consumer" --redis "$addr" \
    --count 103 --max-in-flight 8 >"$dir/run.out" 2>"$dir/run.log"
  check "$2: the example exits 0 after 103 entries" test $? -eq 0
  local total=0 c
  for c in c0 c1 c2 c3; do total=$((total + $(rcli HGET ledger "$c"))); done
  check "$2: the ledger holds the sum of the good amounts (4950)" test "$total" -eq 4950
  check "$2: the three bad orders are dead-lettered" test "$(rcli XLEN orders:dead)" -eq 3
  check "$2: nothing is left pending" test "$(rcli XPENDING orders billing | head -1)" -eq 0
}
run_orders "$prefix/lib" "prefix"

# The word count: 3 lines in, one entry per distinct word of each line out.
rcli XADD lines '*' text "the cat and the hat" >/dev/null
rcli XADD lines '*' text "The end." >/dev/null
rcli XADD lines '*' text "" >/dev/null
LD_LIBRARY_PATH="$prefix/lib" timeout 60 "$dir/word_count/build/word_count" --redis "$addr" \
  --count 3 >"$dir/words.out" 2>"$dir/words.err"
check "word_count exits 0 after 3 lines" test $? -eq 0
check "word_count emits one entry per distinct word of each line (4 + 2)" \
  test "$(rcli XLEN words)" -eq 6
the=$(rcli XRANGE words - + | awk 'prev == "word" { w = $0 } prev == "count" && w == "the" { s += $0 } { prev = $0 } END { print s + 0 }')
check "... and 'the' is counted 3 times in all (2 + 1)" test "$the" -eq 3
check "... with every line acked" test "$(rcli XPENDING lines word-count | head -1)" -eq 0

# The fan-in: three streams, one pool of processing actors.
for i in 1 2 3 4 5 6; do
  rcli XADD orders:eu '*' amount "$i" >/dev/null
  rcli XADD orders:us '*' amount 10 >/dev/null
  rcli XADD orders:apac '*' amount 100 >/dev/null
done
LD_LIBRARY_PATH="$prefix/lib" timeout 60 "$dir/fan_in/build/fan_in" --redis "$addr" --count 6 \
  --max-in-flight 2 >"$dir/fan_in.out" 2>"$dir/fan_in.err"
check "fan_in exits 0 after 6 entries of each stream" test $? -eq 0
check "the pool booked every stream's orders (21, 60, 600)" \
  test "$(rcli HGET revenue eu) $(rcli HGET revenue us) $(rcli HGET revenue apac)" = "21 60 600"
check "... with all three streams acked" \
  test "$(rcli XPENDING orders:eu revenue | head -1)$(rcli XPENDING orders:us revenue | head -1)$(rcli XPENDING orders:apac revenue | head -1)" = 000

# -- the Debian packages --------------------------------------------------------------
debs=$dir/debs
mkdir -p "$debs"
(cd "$build" && cpack -G DEB -B "$debs" >"$dir/cpack.log" 2>&1)
check "cpack -G DEB builds the three packages" \
  test -f "$debs/librill0.1_0.1.0-1_amd64.deb" -a -f "$debs/librill-dev_0.1.0-1_amd64.deb" \
  -a -f "$debs/rill_0.1.0-1_amd64.deb"
[ -f "$debs/rill_0.1.0-1_amd64.deb" ] || tail -20 "$dir/cpack.log"
field() { dpkg-deb -f "$debs/$1" "$2"; }
check "librill-dev depends on the library of the same build and the -dev packages" \
  bash -c "[[ '$(field librill-dev_0.1.0-1_amd64.deb Depends)' == 'librill0.1 (= 0.1.0-1), libcaf-dev (>= 0.17), libhiredis-dev, libspdlog-dev' ]]"
check "the library's dependencies are computed (dpkg-shlibdeps)" \
  bash -c "[[ '$(field librill0.1_0.1.0-1_amd64.deb Depends)' == *libcaf-core0.17* && '$(field librill0.1_0.1.0-1_amd64.deb Depends)' == *libhiredis0.14* ]]"
check "the library package has a shlibs file and the ldconfig trigger" \
  bash -c "dpkg-deb --ctrl-tarfile '$debs/librill0.1_0.1.0-1_amd64.deb' | tar -t | grep -q shlibs &&
           dpkg-deb -I '$debs/librill0.1_0.1.0-1_amd64.deb' triggers | grep -q 'activate-noawait ldconfig'"
check "binaries in the packages are stripped" \
  bash -c "mkdir -p '$dir/x' && dpkg -x '$debs/rill_0.1.0-1_amd64.deb' '$dir/x' && file '$dir/x/usr/bin/rill' | grep -q ', stripped'"
# lintian: no error, and only the warnings docs/packaging.md justifies.
lintian --tag-display-limit 0 "$debs"/*.deb >"$dir/lintian.log" 2>&1
unexpected=$(grep -E '^[EW]: ' "$dir/lintian.log" | grep -vE 'initial-upload-closes-no-bugs|maintainer-script-empty|pkg-config-unavailable-for-cross-compilation')
check "lintian: no error and no unexplained warning" test -z "$unexpected"
[ -z "$unexpected" ] || echo "$unexpected"

root=$dir/root
for deb in "$debs"/*.deb; do dpkg -x "$deb" "$root"; done
check "the example builds against the unpacked Debian packages" \
  build_example order_consumer "$root/usr"
check "... with their headers, not the source tree's" \
  bash -c "grep -qF -- '$root/usr/include' '$dir/order_consumer/build/compile_commands.json' &&
           ! grep -qF -e '$src' -e '$build' '$dir/order_consumer/build/compile_commands.json'"
rcli DEL ledger orders:dead >/dev/null
rcli XGROUP DESTROY orders billing >/dev/null
run_orders "$root/usr/lib" "Debian packages"
check "the packaged tool runs" \
  bash -c "LD_LIBRARY_PATH='$root/usr/lib' '$root/usr/bin/rill' --help | grep -q produce"
finish
