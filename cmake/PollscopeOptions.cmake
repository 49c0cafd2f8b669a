# Project-wide options and compiler flags. Included once from the top-level
# CMakeLists.txt, before any target is created (flags below are directory-wide,
# so every target — runtime, tests, demo, later wasm/ and bench/ — gets them).

set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)

if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE Debug CACHE STRING "Build type" FORCE)
endif()

set(POLLSCOPE_SANITIZE "" CACHE STRING "Native sanitizer build: '' (none), 'address' (ASan+UBSan+LSan) or 'thread' (TSan)")
set_property(CACHE POLLSCOPE_SANITIZE PROPERTY STRINGS "" address thread)
option(POLLSCOPE_THREADS "Emscripten only: build with -pthread (native builds always have threads)" OFF)
set(POLLSCOPE_WASM_INITIAL_MEMORY 268435456 CACHE STRING "Emscripten -pthread builds: fixed INITIAL_MEMORY in bytes")
# Every thread of a -pthread wasm program is a Web Worker from this fixed pool (more
# threads alive at once abort, see PTHREAD_POOL_SIZE_STRICT below; each one costs
# ~40 ms at the start of every test process). The thread tests need up to 11:
# ThreadPool(8) + its timer thread + 2 outside threads.
set(POLLSCOPE_WASM_PTHREAD_POOL_SIZE 12 CACHE STRING "Emscripten -pthread builds: PTHREAD_POOL_SIZE")
# Test builds only: the threaded executors yield or sleep at random (seeded) at their
# queue and task-state operations (runtime/include/pollscope/detail/shake.hpp).
option(POLLSCOPE_SHAKE "Compile the runtime with shake points (POLLSCOPE_SHAKE), for tests" OFF)
option(POLLSCOPE_CCACHE "Use ccache as compiler launcher when it is installed" ON)

# --- warnings ----------------------------------------------------------------
add_compile_options(-Wall -Wextra -Werror)

# --- sanitizers (native only) ------------------------------------------------
if(POLLSCOPE_SANITIZE)
  if(EMSCRIPTEN)
    message(FATAL_ERROR "POLLSCOPE_SANITIZE is for native builds only")
  endif()
  if(POLLSCOPE_SANITIZE STREQUAL "address")
    set(_san -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  elseif(POLLSCOPE_SANITIZE STREQUAL "thread")
    set(_san -fsanitize=thread -fno-omit-frame-pointer)
    # g++ 12 warns -Wtsan on standalone std::atomic_thread_fence; keep it a warning here only.
    add_compile_options(-Wno-error=tsan)
  else()
    message(FATAL_ERROR "POLLSCOPE_SANITIZE must be empty, 'address' or 'thread' (got '${POLLSCOPE_SANITIZE}')")
  endif()
  add_compile_options(${_san})
  add_link_options(${_san})
  unset(_san)
endif()

# --- coverage (native g++ only; scripts/coverage.sh, build/coverage) ------------
option(POLLSCOPE_COVERAGE "Native build instrumented with --coverage (gcov data for npm run coverage)" OFF)
if(POLLSCOPE_COVERAGE)
  # atomic counters: the threaded tests would otherwise race on them (negative counts)
  add_compile_options(--coverage -fprofile-update=atomic)
  add_link_options(--coverage)
endif()

# --- shake mode (tests) ----------------------------------------------------------
if(POLLSCOPE_SHAKE)
  add_compile_definitions(POLLSCOPE_SHAKE=1)
endif()

# --- Emscripten ----------------------------------------------------------------
if(EMSCRIPTEN)
  # Exceptions must be enabled at compile AND link of every target: without it em++
  # compiles `throw` silently and aborts at the first one (a failing REQUIRE would
  # abort the test binary instead of being reported).
  #   wasm: -fwasm-exceptions, native wasm exception handling (fast).
  #   js:   -fexceptions, exceptions emulated through JavaScript (~3x slower throw path).
  # Default: wasm single-threaded, js with POLLSCOPE_THREADS. In Debian's 3.1.6,
  # -fwasm-exceptions + -pthread compiles and runs, but no typed catch ever matches
  # (only catch (...)): clang 14 writes __wasm_lpad_context as a plain global while the
  # prebuilt libunwind-mt-except reads a thread_local one.
  if(POLLSCOPE_THREADS)
    set(_exc_default js)
  else()
    set(_exc_default wasm)
  endif()
  set(POLLSCOPE_WASM_EXCEPTIONS "${_exc_default}" CACHE STRING "Emscripten exception handling: 'wasm' (-fwasm-exceptions) or 'js' (-fexceptions)")
  set_property(CACHE POLLSCOPE_WASM_EXCEPTIONS PROPERTY STRINGS wasm js)
  unset(_exc_default)
  if(POLLSCOPE_WASM_EXCEPTIONS STREQUAL "wasm")
    if(POLLSCOPE_THREADS)
      message(WARNING "POLLSCOPE_WASM_EXCEPTIONS=wasm with POLLSCOPE_THREADS: typed catch clauses do not work in Emscripten 3.1.6 (see cmake/PollscopeOptions.cmake)")
    endif()
    set(_exc -fwasm-exceptions)
  elseif(POLLSCOPE_WASM_EXCEPTIONS STREQUAL "js")
    set(_exc -fexceptions)
  else()
    message(FATAL_ERROR "POLLSCOPE_WASM_EXCEPTIONS must be 'wasm' or 'js'")
  endif()
  add_compile_options(${_exc}
                      # libc++ 13 only has <experimental/coroutine>; every file that defines
                      # a coroutine gets this deprecation warning.
                      -Wno-deprecated-experimental-coroutine)
  add_link_options(${_exc})
  unset(_exc)
  if(POLLSCOPE_THREADS)
    # Every object in a -pthread link must be compiled with -pthread: separate build tree.
    add_compile_options(-pthread)
    add_link_options(-pthread
                     -sPTHREAD_POOL_SIZE=${POLLSCOPE_WASM_PTHREAD_POOL_SIZE}
                     -sPTHREAD_POOL_SIZE_STRICT=2   # too-small pool: explained abort, not a silent hang
                     -sEXIT_RUNTIME=1               # else Node never exits
                     -sINITIAL_MEMORY=${POLLSCOPE_WASM_INITIAL_MEMORY})  # no memory growth with threads
  endif()

  # RelWithDebInfo under Emscripten: -O2 without DWARF (a -g build is 15x bigger, links
  # slowly through wasm-opt and starts slower under Node: each test is its own Node
  # process) and without NDEBUG (assert stays on in tests); -g2 at link keeps function
  # names for readable stack traces.
  set(CMAKE_CXX_FLAGS_RELWITHDEBINFO "-O2")
  set(CMAKE_EXE_LINKER_FLAGS_RELWITHDEBINFO "-O2 -g2")

  # Node runs the .js outputs (tests, demo, test discovery). emcmake's default
  # emulator carries --experimental-wasm-threads, which Node 20 rejects (exit 9) so
  # catch_discover_tests silently finds ZERO tests; 3.1.6 also fetch()es the .wasm
  # by path, which fails under Node 18+ without --no-experimental-fetch.
  find_program(POLLSCOPE_NODE node NO_CMAKE_FIND_ROOT_PATH REQUIRED)
  set(_emu "${POLLSCOPE_NODE};--no-experimental-fetch")
  if(NOT "${CMAKE_CROSSCOMPILING_EMULATOR}" STREQUAL "${_emu}")
    message(STATUS "pollscope: using CROSSCOMPILING_EMULATOR '${_emu}' (was '${CMAKE_CROSSCOMPILING_EMULATOR}')")
  endif()
  set(CMAKE_CROSSCOMPILING_EMULATOR "${_emu}")  # normal variable: shadows the cache entry
  unset(_emu)
endif()

# pollscope_program(<executable target>): per-executable settings for programs
# (tests, demo): under Emscripten they run in Node; in ASan builds they get the
# default sanitizer options from cmake/sanitizer_options.cpp.
function(pollscope_program target)
  if(EMSCRIPTEN)
    target_link_options(${target} PRIVATE
                        -sEXIT_RUNTIME=1   # flush stdout and exit with main's status
                        -sNODERAWFS=1      # direct host file access (reporters writing files)
                        -sASSERTIONS=1)    # runtime checks incl. stack overflow, also at -O2
    if(NOT POLLSCOPE_THREADS)
      target_link_options(${target} PRIVATE -sALLOW_MEMORY_GROWTH=1)
    endif()
  endif()
  if(POLLSCOPE_SANITIZE STREQUAL "address")
    if(NOT TARGET pollscope_sanitizer_options)
      add_library(pollscope_sanitizer_options OBJECT "${PROJECT_SOURCE_DIR}/cmake/sanitizer_options.cpp")
    endif()
    target_link_libraries(${target} PRIVATE pollscope_sanitizer_options)
  endif()
endfunction()

# --- ccache ------------------------------------------------------------------
# Verified to work with both g++ and em++ (em++ hits come back in ~10 ms).
if(POLLSCOPE_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  find_program(POLLSCOPE_CCACHE_PROGRAM ccache NO_CMAKE_FIND_ROOT_PATH)
  if(POLLSCOPE_CCACHE_PROGRAM)
    set(CMAKE_CXX_COMPILER_LAUNCHER "${POLLSCOPE_CCACHE_PROGRAM}")
  endif()
endif()
