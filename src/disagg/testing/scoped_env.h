// Test helper: sets an environment variable for a scope (the catalog folder,
// DISAGG_DATA_DIR, for tests that need a catalog of their own).
//
// Contract: test-only; restores the previous value, or unsets the variable,
// on destruction. Not thread-safe (setenv is process-wide).
#ifndef DISAGG_TESTING_SCOPED_ENV_H_
#define DISAGG_TESTING_SCOPED_ENV_H_

#include <cstdlib>
#include <optional>
#include <string>

namespace disagg::testing {

class ScopedEnv {
 public:
  ScopedEnv(std::string name, const std::string& value) : name_(std::move(name)) {
    if (const char* old = std::getenv(name_.c_str())) saved_ = old;
    ::setenv(name_.c_str(), value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (saved_) {
      ::setenv(name_.c_str(), saved_->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> saved_;
};

}  // namespace disagg::testing

#endif  // DISAGG_TESTING_SCOPED_ENV_H_
