# hiredis 0.14's CMake config (Debian's libhiredis-dev) sets variables but no
# target. This shim finds it under rill's own name, rill::hiredis, so it never
# clashes with a project's find_package(Hiredis). Only rill's build uses it:
# hiredis is a private dependency of librill (no installed header includes it).
if(TARGET rill::hiredis)
  return()
endif()
find_path(RILL_HIREDIS_INCLUDE_DIR hiredis/hiredis.h)
find_library(RILL_HIREDIS_LIBRARY hiredis)
if(NOT RILL_HIREDIS_INCLUDE_DIR OR NOT RILL_HIREDIS_LIBRARY)
  message(FATAL_ERROR "rill needs hiredis 0.14 (Debian: apt-get install libhiredis-dev)")
endif()
add_library(rill::hiredis UNKNOWN IMPORTED)
set_target_properties(rill::hiredis PROPERTIES IMPORTED_LOCATION "${RILL_HIREDIS_LIBRARY}"
                                               INTERFACE_INCLUDE_DIRECTORIES "${RILL_HIREDIS_INCLUDE_DIR}")
