// Test helper: runs the built `disagg` binary and checks the bad-input
// contract (exit status 2, a message on stderr, nothing on stdout).
//
// Contract: test-only; DISAGG_BINARY (the test target's compile definition)
// names the binary. Each test gets its own temporary folder, removed after.
#ifndef DISAGG_TESTING_CLI_RUNNER_H_
#define DISAGG_TESTING_CLI_RUNNER_H_

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace disagg::testing {

namespace fs = std::filesystem;
using Json = nlohmann::json;

inline ::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

// Quotes `s` for /bin/sh.
inline std::string ShellQuote(const std::string& s) {
  std::string q(1, '\'');
  for (char c : s) {
    if (c == '\'') {
      q.append("'\\''");
    } else {
      q.push_back(c);
    }
  }
  q.push_back('\'');
  return q;
}

struct RunResult {
  int status = -1;  // exit status, or -1 when killed by a signal
  std::string out;
  std::string err;
};

inline std::ostream& operator<<(std::ostream& os, const RunResult& r) {
  return os << "status " << r.status << "\nstdout: " << r.out << "\nstderr: " << r.err;
}

class CliTest : public ::testing::Test {
 public:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("disagg_cli_test_{}_{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  RunResult Run(std::initializer_list<std::string> args) {
    return RunArgs(std::vector<std::string>(args));
  }

  // Runs the binary with `args`; stdout through a pipe, stderr via a file.
  RunResult RunArgs(const std::vector<std::string>& args) {
    std::string err_path = (dir_ / "stderr.txt").string();
    std::string cmd = ShellQuote(DISAGG_BINARY);
    for (const auto& a : args) {
      cmd.push_back(' ');
      cmd.append(ShellQuote(a));
    }
    cmd.append(" </dev/null 2>");
    cmd.append(ShellQuote(err_path));
    RunResult r;
    FILE* pipe = ::popen(cmd.c_str(), "r");
    if (pipe == nullptr) {
      ADD_FAILURE() << "popen failed: " << cmd;
      return r;
    }
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.out.append(buf, n);
    int status = ::pclose(pipe);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream in(err_path);
    std::stringstream ss;
    ss << in.rdbuf();
    r.err = ss.str();
    return r;
  }

  std::string Write(const std::string& name, const std::string& text) {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }

  // The catalog H100 spec, as a starting point for broken copies.
  static Json H100() {
    std::ifstream in(std::string(DISAGG_SOURCE_DIR) + "/data/hardware/h100_sxm.json");
    return Json::parse(in);
  }
  static Json Llama70B() {
    std::ifstream in(std::string(DISAGG_SOURCE_DIR) + "/data/models/llama-3.1-70b.json");
    return Json::parse(in);
  }

  // Asserts the contract for bad input: status 2, empty stdout, and stderr
  // containing each of `parts`.
  void ExpectUsageError(const RunResult& r, std::initializer_list<std::string> parts) {
    EXPECT_EQ(r.status, 2) << r;
    EXPECT_EQ(r.out, "") << r;
    EXPECT_TRUE(Contains(r.err, "error")) << r;
    for (const auto& p : parts) EXPECT_TRUE(Contains(r.err, p)) << r;
  }

  fs::path dir_;
};

}  // namespace disagg::testing

#endif  // DISAGG_TESTING_CLI_RUNNER_H_
