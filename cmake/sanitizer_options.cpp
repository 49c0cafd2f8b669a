// Linked into test and demo executables of POLLSCOPE_SANITIZE=address builds:
// default runtime options, so that ctest, test discovery and a plain
// `./runtime_tests` behave the same. ASAN_OPTIONS / UBSAN_OPTIONS in the
// environment still override these.
extern "C" const char* __asan_default_options() {
  return "detect_leaks=1:abort_on_error=0:strict_string_checks=1:"
         "detect_stack_use_after_return=1:check_initialization_order=1";
}
extern "C" const char* __ubsan_default_options() {
  return "print_stacktrace=1:halt_on_error=1";
}
