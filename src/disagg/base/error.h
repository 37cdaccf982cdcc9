// Error values for everything that can fail on user input.
//
// Contract: a fallible function returns Result<T> (std::expected<T, Error>).
// An Error's message is complete and user-facing: it names the file, the key or
// flag, the offending value and what was expected. Exceptions are used only at
// the CLI boundary, never below it.
#ifndef DISAGG_BASE_ERROR_H_
#define DISAGG_BASE_ERROR_H_

#include <fmt/format.h>

#include <expected>
#include <string>
#include <utility>

namespace disagg {

struct Error {
  std::string message;
};

template <typename T>
using Result = std::expected<T, Error>;

// Builds an unexpected Error from a fmt format string.
template <typename... Args>
std::unexpected<Error> Fail(fmt::format_string<Args...> format, Args&&... args) {
  return std::unexpected<Error>(Error{fmt::format(format, std::forward<Args>(args)...)});
}

}  // namespace disagg

#endif  // DISAGG_BASE_ERROR_H_
