// Registration of the `disagg` subcommands.
//
// Contract: each function adds one or more subcommands to `app` whose
// callbacks do the work and print to stdout; errors throw UsageError.
#ifndef DISAGG_CLI_COMMANDS_H_
#define DISAGG_CLI_COMMANDS_H_

#include <CLI/CLI.hpp>

namespace disagg::cli {

void AddEstimateCommand(CLI::App& app);
void AddCatalogCommands(CLI::App& app);
void AddFrontierCommand(CLI::App& app);
void AddCalibrateCommand(CLI::App& app);
void AddSimulateCommand(CLI::App& app);
void AddValidateCommand(CLI::App& app);

}  // namespace disagg::cli

#endif  // DISAGG_CLI_COMMANDS_H_
