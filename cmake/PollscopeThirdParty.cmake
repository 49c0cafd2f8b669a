# Third-party headers from Debian packages (catch2, nlohmann-json3-dev).
#
# Both live in /usr/include. The packages' own targets (Catch2::Catch2,
# nlohmann_json::nlohmann_json) put `-isystem /usr/include` on the command line,
# and in an em++ build that drags host glibc headers in and breaks it. So we
# never link them; instead each library gets a folder in the build tree that
# contains only a symlink to its header directory, e.g.
#   <build>/pollscope-sysinc/catch2/catch2 -> /usr/include/catch2
# and that folder goes on the include path (SYSTEM, so -Werror ignores the
# libraries' own warnings). Same mechanism natively and under Emscripten.
#
# find_package(... NO_CMAKE_FIND_ROOT_PATH) is needed because Emscripten's
# toolchain file restricts package lookups to its sysroot.

find_package(Catch2 2.13 CONFIG REQUIRED NO_CMAKE_FIND_ROOT_PATH)
find_package(nlohmann_json 3 CONFIG REQUIRED NO_CMAKE_FIND_ROOT_PATH)

# pollscope_symlink_include(<new target> <imported package target> <header dir name>)
function(pollscope_symlink_include target imported subdir)
  get_target_property(_dirs ${imported} INTERFACE_INCLUDE_DIRECTORIES)
  set(_src "")
  foreach(_d IN LISTS _dirs)
    if(IS_DIRECTORY "${_d}/${subdir}")
      set(_src "${_d}/${subdir}")
      break()
    endif()
  endforeach()
  if(NOT _src)
    message(FATAL_ERROR "${imported}: no '${subdir}' header directory under '${_dirs}'")
  endif()
  set(_folder "${CMAKE_BINARY_DIR}/pollscope-sysinc/${target}")
  file(MAKE_DIRECTORY "${_folder}")
  file(CREATE_LINK "${_src}" "${_folder}/${subdir}" SYMBOLIC)
  add_library(${target} INTERFACE)
  target_include_directories(${target} SYSTEM INTERFACE "${_folder}")
endfunction()

pollscope_symlink_include(pollscope_catch2 Catch2::Catch2 catch2)             # <catch2/catch.hpp>
pollscope_symlink_include(pollscope_json nlohmann_json::nlohmann_json nlohmann)  # <nlohmann/json.hpp>
add_library(pollscope::catch2 ALIAS pollscope_catch2)
add_library(pollscope::json ALIAS pollscope_json)

# catch_discover_tests(); Catch2's config does not put Catch.cmake on the module path.
include("${Catch2_DIR}/Catch.cmake")
# ...but it runs our fixed copy of its discovery script (see the file's header).
set(_CATCH_DISCOVER_TESTS_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/CatchAddTests.cmake"
    CACHE INTERNAL "CatchAddTests.cmake used by catch_discover_tests")
