#include "disagg/base/files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace disagg {
namespace fs = std::filesystem;

std::string DataDir() {
  if (const char* env = std::getenv("DISAGG_DATA_DIR"); env != nullptr && *env != '\0') {
    return env;
  }
  return std::string(DISAGG_SOURCE_DIR) + "/data";
}

Result<std::string> ReadFile(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return Fail("{}: is a directory, expected a file", path);
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail("{}: cannot open file ({})", path, std::strerror(errno));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

Result<void> CheckWritable(const std::string& path, std::string_view flag) {
  if (path.empty()) return Fail("{}: empty output path", flag);
  fs::path p(path);
  fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  std::error_code ec;
  if (fs::is_directory(p, ec)) return Fail("{}: '{}' is a directory", flag, path);
  if (!fs::is_directory(dir, ec)) {
    return Fail("{}: cannot write '{}': folder '{}' does not exist", flag, path, dir.string());
  }
  if (::access(dir.c_str(), W_OK) != 0) {
    return Fail("{}: cannot write '{}': folder '{}' is not writable", flag, path, dir.string());
  }
  if (fs::exists(p, ec) && ::access(p.c_str(), W_OK) != 0) {
    return Fail("{}: cannot write '{}': file is not writable", flag, path);
  }
  return {};
}

Result<void> WriteFileAtomically(const std::string& path, std::string_view content) {
  fs::path target(path);
  fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string tmpl = (dir / fmt::format(".{}.tmpXXXXXX", target.filename().string())).string();
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0) return Fail("{}: cannot create a temporary file ({})", path, std::strerror(errno));
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmpl.c_str());
      return Fail("{}: write failed ({})", path, std::strerror(err));
    }
    written += static_cast<size_t>(n);
  }
  ::fchmod(fd, 0644);
  if (::close(fd) != 0 || std::rename(tmpl.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmpl.c_str());
    return Fail("{}: cannot write file ({})", path, std::strerror(err));
  }
  return {};
}

AtomicFileWriter::~AtomicFileWriter() {
  if (open_) {
    out_.close();
    ::unlink(tmp_.c_str());
  }
}

Result<void> AtomicFileWriter::Open(const std::string& path) {
  fs::path target(path);
  fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string tmpl = (dir / fmt::format(".{}.tmpXXXXXX", target.filename().string())).string();
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0) return Fail("{}: cannot create a temporary file ({})", path, std::strerror(errno));
  ::close(fd);
  out_.open(tmpl, std::ios::binary | std::ios::trunc);
  if (!out_) {
    ::unlink(tmpl.c_str());
    return Fail("{}: cannot open for writing", path);
  }
  path_ = path;
  tmp_ = tmpl;
  open_ = true;
  return {};
}

Result<void> AtomicFileWriter::Commit() {
  if (!open_) return Fail("internal: commit of an unopened file");
  out_.flush();
  bool ok = static_cast<bool>(out_);
  out_.close();
  open_ = false;
  ::chmod(tmp_.c_str(), 0644);
  if (!ok || std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp_.c_str());
    return Fail("{}: cannot write file ({})", path_, std::strerror(err));
  }
  return {};
}

}  // namespace disagg
