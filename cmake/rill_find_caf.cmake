# CAF 0.17 from Debian's libcaf-dev ships no CMake config. This module finds it
# and creates imported targets under rill's own names (rill::caf_core,
# rill::caf_io, rill::caf_openssl), so it never clashes with a FindCAF or a CAF
# config the including project has. Used by rill's build and by the installed
# rillConfig.cmake.
if(TARGET rill::caf_core)
  return()
endif()
find_path(RILL_CAF_INCLUDE_DIR caf/all.hpp)
find_library(RILL_CAF_CORE_LIBRARY caf_core)
find_library(RILL_CAF_IO_LIBRARY caf_io)
find_library(RILL_CAF_OPENSSL_LIBRARY caf_openssl)
foreach(var IN ITEMS RILL_CAF_INCLUDE_DIR RILL_CAF_CORE_LIBRARY RILL_CAF_IO_LIBRARY
                     RILL_CAF_OPENSSL_LIBRARY)
  if(NOT ${var})
    message(FATAL_ERROR "rill needs CAF 0.17 (Debian: apt-get install libcaf-dev): ${var} not found")
  endif()
endforeach()
add_library(rill::caf_core UNKNOWN IMPORTED)
set_target_properties(rill::caf_core PROPERTIES IMPORTED_LOCATION "${RILL_CAF_CORE_LIBRARY}"
                                                INTERFACE_INCLUDE_DIRECTORIES "${RILL_CAF_INCLUDE_DIR}")
add_library(rill::caf_io UNKNOWN IMPORTED)
set_target_properties(rill::caf_io PROPERTIES IMPORTED_LOCATION "${RILL_CAF_IO_LIBRARY}"
                                              INTERFACE_LINK_LIBRARIES rill::caf_core)
add_library(rill::caf_openssl UNKNOWN IMPORTED)
set_target_properties(rill::caf_openssl PROPERTIES IMPORTED_LOCATION "${RILL_CAF_OPENSSL_LIBRARY}"
                                                   INTERFACE_LINK_LIBRARIES rill::caf_io)
