# Distributed under the OSI-approved BSD 3-Clause License.  See accompanying
# file Copyright.txt or https://cmake.org/licensing for details.
#
# pollscope's copy of Catch2 2.13.10's CatchAddTests.cmake (the script that
# catch_discover_tests runs after each link of a test executable), with fixes:
#  - a test name containing ';' was split into two bogus ctest tests, each of
#    which matched no test case and "passed" (Catch exits 0 when nothing ran);
#  - a failing listing (e.g. Node rejecting an emulator flag, exit 9) silently
#    produced ZERO tests; now the build fails with the listing's output;
#  - the test filter escapes every character Catch's test-spec parser treats
#    specially (\ , [ ] " ~), not only , [ ], and copes with a leading "exclude:".
# Selected by cmake/PollscopeThirdParty.cmake; reporter/output-dir options are
# kept as in the original.

set(prefix "${TEST_PREFIX}")
set(suffix "${TEST_SUFFIX}")
set(spec ${TEST_SPEC})
set(extra_args ${TEST_EXTRA_ARGS})
set(properties ${TEST_PROPERTIES})
set(reporter ${TEST_REPORTER})
set(output_dir ${TEST_OUTPUT_DIR})
set(output_prefix ${TEST_OUTPUT_PREFIX})
set(output_suffix ${TEST_OUTPUT_SUFFIX})
set(script)
set(tests)

function(add_command NAME)
  set(_args "")
  # use ARGV* instead of ARGN, because ARGN splits arrays into multiple arguments
  math(EXPR _last_arg ${ARGC}-1)
  foreach(_n RANGE 1 ${_last_arg})
    set(_arg "${ARGV${_n}}")
    if(_arg MATCHES "[^-./:a-zA-Z0-9_]")
      set(_args "${_args} [==[${_arg}]==]") # form a bracket_argument
    else()
      set(_args "${_args} ${_arg}")
    endif()
  endforeach()
  set(script "${script}${NAME}(${_args})\n" PARENT_SCOPE)
endfunction()

if(NOT EXISTS "${TEST_EXECUTABLE}")
  message(FATAL_ERROR "Specified test executable '${TEST_EXECUTABLE}' does not exist")
endif()

# Catch2 2.x exits with the number of listed tests, capped at 255.
execute_process(
  COMMAND ${TEST_EXECUTOR} "${TEST_EXECUTABLE}" ${spec} --list-test-names-only
  OUTPUT_VARIABLE output
  ERROR_VARIABLE error_output
  RESULT_VARIABLE result
  WORKING_DIRECTORY "${TEST_WORKING_DIR}"
)
string(STRIP "${output}" output)
set(names)
if(NOT output STREQUAL "")
  string(REPLACE ";" "\\;" output "${output}")   # keep ';' inside a name
  string(REPLACE "\n" ";" output "${output}")
  foreach(line IN LISTS output)
    string(STRIP "${line}" line)
    if(NOT line STREQUAL "")
      string(REPLACE ";" "\\;" line "${line}")
      list(APPEND names "${line}")
    endif()
  endforeach()
endif()
list(LENGTH names count)
set(expected_result ${count})
if(count GREATER 255)  # Catch2 caps its exit status at 255
  set(expected_result 255)
endif()
if(NOT result MATCHES "^[0-9]+$" OR NOT result EQUAL expected_result)
  string(SUBSTRING "${output}" 0 2000 output_head)
  message(FATAL_ERROR
    "Listing the tests of '${TEST_EXECUTABLE}' failed:\n"
    "  command: ${TEST_EXECUTOR} ${TEST_EXECUTABLE} ${spec} --list-test-names-only\n"
    "  exit status: ${result} (expected the number of tests listed, ${count}, at most 255)\n"
    "  stdout (first 2000 characters): ${output_head}\n"
    "  stderr: ${error_output}\n")
endif()
if(count EQUAL 0)
  message(STATUS "Test executable '${TEST_EXECUTABLE}' contains no tests")
endif()

if(reporter)
  set(reporter_arg "--reporter ${reporter}")
endif()
if(output_dir AND NOT IS_ABSOLUTE ${output_dir})
  set(output_dir "${TEST_WORKING_DIR}/${output_dir}")
  if(NOT EXISTS ${output_dir})
    file(MAKE_DIRECTORY ${output_dir})
  endif()
endif()

foreach(test IN LISTS names)
  # Test filter: escape the characters Catch's test-spec parser interprets
  # (backslash first).
  set(test_name "${test}")
  foreach(char \\ , [ ] \" ~)
    string(REPLACE "${char}" "\\${char}" test_name "${test_name}")
  endforeach()
  if(test_name MATCHES "^exclude:(.*)$")  # Catch reads this prefix as "exclude": match the rest as a suffix
    set(test_name "*xclude:${CMAKE_MATCH_1}")
  endif()
  if(output_dir)
    string(REGEX REPLACE "[^A-Za-z0-9_]" "_" test_name_clean "${test_name}")
    set(output_dir_arg "--out ${output_dir}/${output_prefix}${test_name_clean}${output_suffix}")
  endif()
  add_command(add_test
    "${prefix}${test}${suffix}"
    ${TEST_EXECUTOR}
    "${TEST_EXECUTABLE}"
    "${test_name}"
    ${extra_args}
    "${reporter_arg}"
    "${output_dir_arg}"
  )
  add_command(set_tests_properties
    "${prefix}${test}${suffix}"
    PROPERTIES
    WORKING_DIRECTORY "${TEST_WORKING_DIR}"
    ${properties}
  )
  list(APPEND tests "${prefix}${test}${suffix}")
endforeach()

# Create a list of all discovered tests, which users may use to e.g. set
# properties on the tests
add_command(set ${TEST_LIST} ${tests})

file(WRITE "${CTEST_FILE}" "${script}")
