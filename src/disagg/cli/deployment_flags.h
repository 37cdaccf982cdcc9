// Turning command-line deployment descriptions into sim::Deployment: the
// pool strings of `--prefill "instances=2,tp=4,batch=2"`, the co-located
// flags, and a design point of a `disagg frontier --json` file.
//
// Contract: CLI code; errors throw UsageError naming the flag, key and value.
#ifndef DISAGG_CLI_DEPLOYMENT_FLAGS_H_
#define DISAGG_CLI_DEPLOYMENT_FLAGS_H_

#include <string>

#include "disagg/base/json_reader.h"
#include "disagg/cli/common.h"
#include "disagg/sim/deployment.h"

namespace disagg::cli {

// "instances=2,tp=4,pp=1,dp=1,ep=4,moe_tp=1,batch=2,chunk=0": every key
// optional except where the pool needs it; unknown keys are errors.
sim::PoolSpec ParsePoolSpec(const std::string& text, const char* flag, const Specs& specs);

// Design point `index` of the `mode` list ("disaggregated" or "colocated") of
// a frontier JSON document read from `path`.
sim::Deployment DeploymentFromFrontier(const Json& frontier, const std::string& path,
                                       const std::string& mode, int index);

}  // namespace disagg::cli

#endif  // DISAGG_CLI_DEPLOYMENT_FLAGS_H_
