// The one Catch2 main shared by every test executable. It is compiled once, in
// its own object library (tests/CMakeLists.txt); the *_tests.cpp files only
// include <catch2/catch.hpp>.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
