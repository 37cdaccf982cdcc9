// The `disagg` command: parses the command line and runs one subcommand.
// Exit status: 0 on success, 2 on any user error (message on stderr).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string>

#include "disagg/cli/commands.h"
#include "disagg/cli/common.h"

int main(int argc, char** argv) {
  CLI::App app{
      "disagg: plan LLM serving on a GPU cluster, co-located or disaggregated (prefill and decode "
      "on separate pools), from first principles."};
  app.require_subcommand(1);
  disagg::cli::AddEstimateCommand(app);
  disagg::cli::AddFrontierCommand(app);
  disagg::cli::AddCalibrateCommand(app);
  disagg::cli::AddSimulateCommand(app);
  disagg::cli::AddValidateCommand(app);
  disagg::cli::AddCatalogCommands(app);
  // CLI11 reports a mistyped command only as "A subcommand is required";
  // name the word instead.
  if (argc > 1 && argv[1][0] != '-') {
    std::string known;
    bool found = false;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
      found |= sub->check_name(argv[1]);
      if (!known.empty()) known += ", ";
      known += sub->get_name();
    }
    if (!found) {
      std::fprintf(stderr, "disagg: error: unknown command '%s' (expected one of: %s)\n", argv[1],
                   known.c_str());
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "disagg: error: %s\n", e.what());
    return 2;
  } catch (const disagg::cli::UsageError& e) {
    std::fprintf(stderr, "disagg: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "disagg: internal error: %s\n", e.what());
    return 3;
  }
  return 0;
}
