// Plain driver for the libFuzzer targets in tests/fuzz (no fuzzing, no libFuzzer):
// runs every file of the directories and files given on the command line through
// LLVMFuzzerTestOneInput, printing one line per input and a final count. Linked with
// each target as fuzz_replay_<target> (CTest label `fuzz`), so every build replays the
// seed corpus and every crash regression; under ASan/UBSan a regression that crashes
// again aborts this program.
//
//   fuzz_replay_scenario_parse_fuzzer tests/fuzz/corpus/scenario_parse_fuzzer
//                                     tests/fuzz/regressions/scenario_parse_fuzzer
//
// A missing argument is an error (exit 2); an empty directory is fine. Directories are
// read recursively, files in sorted order; files whose names start with '.' are skipped.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    const fs::path arg(argv[i]);
    std::error_code ec;
    if (fs::is_directory(arg, ec)) {
      for (const fs::directory_entry& entry : fs::recursive_directory_iterator(arg, ec)) {
        if (entry.is_regular_file() && entry.path().filename().string().rfind('.', 0) != 0) {
          inputs.push_back(entry.path());
        }
      }
      if (ec) {
        std::fprintf(stderr, "replay: cannot read directory %s: %s\n", argv[i], ec.message().c_str());
        return 2;
      }
    } else if (fs::is_regular_file(arg, ec)) {
      inputs.push_back(arg);
    } else {
      std::fprintf(stderr, "replay: no such file or directory: %s\n", argv[i]);
      return 2;
    }
  }
  std::sort(inputs.begin(), inputs.end());

  std::size_t count = 0;
  for (const fs::path& path : inputs) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "replay: cannot open %s\n", path.c_str());
      return 2;
    }
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::printf("replay %s (%zu bytes)\n", path.c_str(), bytes.size());
    std::fflush(stdout);  // the name is on record if this input crashes
    // A copy in its own allocation, as libFuzzer does: ASan catches reads past the end.
    std::vector<std::uint8_t> data(bytes.begin(), bytes.end());
    static const std::uint8_t empty = 0;
    LLVMFuzzerTestOneInput(data.empty() ? &empty : data.data(), data.size());
    ++count;
  }
  std::printf("replayed %zu inputs, all ok\n", count);
  return 0;
}
