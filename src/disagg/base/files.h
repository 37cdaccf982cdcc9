// File-system helpers: the catalog location and all-or-nothing output files.
//
// Contract: WriteFileAtomically writes to a temporary file in the target's
// folder and renames it over the target, so a reader never sees a partial
// file; on failure nothing is left behind and the Error names the path.
// CheckWritable tests, before any work is done, that a path can be created.
#ifndef DISAGG_BASE_FILES_H_
#define DISAGG_BASE_FILES_H_

#include <fstream>
#include <string>
#include <string_view>

#include "disagg/base/error.h"

namespace disagg {

// The catalog folder: $DISAGG_DATA_DIR, else the source tree's data/.
std::string DataDir();

Result<void> WriteFileAtomically(const std::string& path, std::string_view content);

// `flag` names the option the path came from, for the message.
Result<void> CheckWritable(const std::string& path, std::string_view flag);

// Reads a whole file.
Result<std::string> ReadFile(const std::string& path);

// Streams a large output file all-or-nothing: writes go to a temporary file
// next to the target; Commit() renames it into place; destruction without
// Commit() deletes it. Not thread-safe.
class AtomicFileWriter {
 public:
  AtomicFileWriter() = default;
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  Result<void> Open(const std::string& path);
  std::ostream& stream() { return out_; }
  Result<void> Commit();

 private:
  std::string path_, tmp_;
  std::ofstream out_;
  bool open_ = false;
};

}  // namespace disagg

#endif  // DISAGG_BASE_FILES_H_
