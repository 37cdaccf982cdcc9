// Test helpers: where the shared measurement and trace files are, and a
// uniform skip when they are absent.
//
// Contract: test-only. SharedDir() is $DISAGG_SHARED_DIR, else the folder
// `shared` next to the source tree. Use DISAGG_REQUIRE_SHARED(path) at the top
// of a test: it skips the test with a message naming the missing file.
#ifndef DISAGG_TESTING_SHARED_DATA_H_
#define DISAGG_TESTING_SHARED_DATA_H_

#include <cstdlib>
#include <filesystem>
#include <string>

namespace disagg::testing {

inline std::string SharedDir() {
  if (const char* env = std::getenv("DISAGG_SHARED_DIR"); env != nullptr && *env != '\0') {
    return env;
  }
  return std::string(DISAGG_SOURCE_DIR) + "/../shared";
}

inline std::string SharedFile(const std::string& relative) { return SharedDir() + "/" + relative; }

}  // namespace disagg::testing

#define DISAGG_REQUIRE_SHARED(relative)                                                 \
  do {                                                                                  \
    if (!std::filesystem::exists(::disagg::testing::SharedFile(relative))) {            \
      GTEST_SKIP() << "shared data absent: " << ::disagg::testing::SharedFile(relative) \
                   << " (tests that read ../shared are skipped)";                       \
    }                                                                                   \
  } while (0)

#endif  // DISAGG_TESTING_SHARED_DATA_H_
