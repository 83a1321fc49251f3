# Debian packages (`cpack -G DEB` in the build directory, docs/packaging.md):
#   librill0.1  the shared library (named after its SONAME, librill.so.0.1)
#   librill-dev headers, CMake package, rill.pc, the librill.so link
#   rill        the rill tool (links rill's objects statically: no librill dependency)
# Prefix /usr, stripped, dependencies computed by dpkg-shlibdeps.
set(CPACK_PACKAGE_NAME rill)
set(CPACK_PACKAGE_VENDOR "rill maintainers")
set(CPACK_PACKAGE_CONTACT "rill maintainers <maintainers@users.noreply.b-seed-e757f31f.example>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_DEBIAN_PACKAGE_RELEASE 1) # 0.1.0-1: a packaging of upstream 0.1.0
set(rill_deb_version ${PROJECT_VERSION}-1)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "actor runtime for processing Redis Streams")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL lib dev tool)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://example.invalid/rill")

set(rill_soname_package librill${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
set(CPACK_DEBIAN_LIB_PACKAGE_NAME ${rill_soname_package})
set(CPACK_DEBIAN_LIB_DESCRIPTION "actor runtime for processing Redis Streams - library
 rill reads Redis Streams with one reader actor per stream and group and a
 pool of worker actors that grant it credits: at-least-once, bounded,
 never blocking a thread on Redis.")
# The library package holds a shared library: a shlibs file (so packages
# built against it depend on it) and the ldconfig trigger. The postinst and
# postrm given here are empty, so CPack does not write ones calling ldconfig.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_DEBIAN_LIB_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/cmake/debian/triggers
                                           ${PROJECT_SOURCE_DIR}/cmake/debian/postinst
                                           ${PROJECT_SOURCE_DIR}/cmake/debian/postrm)

set(CPACK_DEBIAN_DEV_PACKAGE_NAME librill-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_DESCRIPTION "actor runtime for processing Redis Streams - development files
 Headers under /usr/include/rill, the CMake package (find_package(rill),
 rill::rill) and rill.pc for pkg-config.")
# The library of this build, then the -dev package of every library
# dependency (rill_deb_dev_depends, appended where each is found in the top
# CMakeLists). Headers include CAF only; hiredis and spdlog are listed too so
# that a static relink against the archive stays possible.
list(JOIN rill_deb_dev_depends ", " rill_dev_depends_text)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
    "${rill_soname_package} (= ${rill_deb_version}), ${rill_dev_depends_text}")

set(CPACK_DEBIAN_TOOL_PACKAGE_NAME rill)
set(CPACK_DEBIAN_TOOL_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_TOOL_DESCRIPTION "actor runtime for processing Redis Streams - the rill tool
 rill produce, consume, node, bench, demo and dead-letters: the command-line
 side of the rill library.")

# The tool's manual page.
execute_process(COMMAND gzip -9nc ${PROJECT_SOURCE_DIR}/cmake/debian/rill.1
                OUTPUT_FILE ${PROJECT_BINARY_DIR}/rill.1.gz)
install(FILES ${PROJECT_BINARY_DIR}/rill.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1
        COMPONENT tool)

# copyright and changelog in every package's doc directory.
execute_process(COMMAND gzip -9nc ${PROJECT_SOURCE_DIR}/cmake/debian/changelog
                OUTPUT_FILE ${PROJECT_BINARY_DIR}/changelog.Debian.gz)
foreach(component IN ITEMS lib dev tool)
  if(component STREQUAL lib)
    set(pkg ${rill_soname_package})
  elseif(component STREQUAL dev)
    set(pkg librill-dev)
  else()
    set(pkg rill)
  endif()
  install(FILES ${PROJECT_SOURCE_DIR}/cmake/debian/copyright
          DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/${pkg} COMPONENT ${component})
  install(FILES ${PROJECT_BINARY_DIR}/changelog.Debian.gz
          DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/${pkg} COMPONENT ${component})
endforeach()

include(CPack)
