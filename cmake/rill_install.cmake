# What `cmake --install` puts under the prefix (docs/packaging.md):
#   include/rill/rill.hpp, include/rill/{actors,runtime}/...  the public headers
#   include/rill/testing.hpp, lib/librill_testing.a           rill::testing
#   lib/librill.so.0.1 (+ links)                              the library
#   lib/cmake/rill/                                           rillConfig.cmake & co.
#   lib/pkgconfig/rill.pc                                     for pkg-config
#   bin/rill                                                  the tool (with RILL_BUILD_TOOLS)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# The public headers: the application API and everything it includes
# (tests/packaging/install.sh compiles each installed header on its own
# against the prefix). The rest of actors/ and runtime/ is internal.
set(rill_public_headers
  actors/callbacks.hpp
  actors/effects.hpp
  actors/error.hpp
  actors/histogram.hpp
  actors/interfaces.hpp
  actors/messages.hpp
  actors/metrics.hpp
  actors/options.hpp
  actors/producer.hpp
  actors/stream_entry.hpp
  actors/redis/command.hpp
  actors/redis/reply.hpp
  runtime/callback_registry.hpp
  runtime/config.hpp
  runtime/consumer.hpp
  runtime/logging.hpp
  runtime/node_main.hpp
  runtime/runtime.hpp
  runtime/settings.hpp
  runtime/tail.hpp
)
foreach(header IN LISTS rill_public_headers)
  get_filename_component(dir ${header} DIRECTORY)
  install(FILES ${PROJECT_SOURCE_DIR}/${header} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/rill/${dir}
          COMPONENT dev)
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/runtime/rill.hpp ${PROJECT_SOURCE_DIR}/runtime/testing.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/rill COMPONENT dev)

install(TARGETS rill EXPORT rillTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT lib NAMELINK_COMPONENT dev)
# rill::testing: a static archive, so an app's test binary carries it.
install(TARGETS rill_callback_testing EXPORT rillTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
set(rill_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/rill)
install(EXPORT rillTargets NAMESPACE rill:: DESTINATION ${rill_cmake_dir} COMPONENT dev)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/rillConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/rillConfig.cmake INSTALL_DESTINATION ${rill_cmake_dir})
# 0.y: a newer minor version may break the API, so only the same minor matches.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/rillConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/rillConfig.cmake ${PROJECT_BINARY_DIR}/rillConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/rill_find_caf.cmake
        DESTINATION ${rill_cmake_dir} COMPONENT dev)
configure_file(${PROJECT_SOURCE_DIR}/cmake/rill.pc.in ${PROJECT_BINARY_DIR}/rill.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/rill.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
        COMPONENT dev)
