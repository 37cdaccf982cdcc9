// `disagg estimate`: one deployment of one phase, analytically.
#include <cstdio>
#include <string>

#include "disagg/base/json_reader.h"
#include "disagg/cli/commands.h"
#include "disagg/cli/common.h"
#include "disagg/parallel/memory.h"
#include "disagg/perf/sharding.h"
#include "disagg/perf/step_model.h"
#include "disagg/report/table.h"
#include "disagg/serving/phase.h"

namespace disagg::cli {
namespace {

struct EstimateFlags {
  SpecFlags spec;
  MappingFlags mapping;
  int isl = 0, osl = 0;
  int batch = 1;
  int chunk = 0;
  std::string phase = "decode";
  bool json = false;
};

Json BreakdownJson(const perf::StepBreakdown& b) {
  return Json{{"gemm", b.gemm},
              {"attention", b.attention},
              {"moe", b.moe},
              {"comm", b.comm},
              {"other", b.other}};
}

std::string BreakdownText(const perf::StepBreakdown& b) {
  report::Table t({"part", "time", "share"});
  double total = b.total();
  auto row = [&](const char* name, double v) {
    t.AddRow({name, report::Seconds(v), report::Percent(total > 0 ? v / total : 0)});
  };
  row("GEMM (projections, dense FFN, LM head)", b.gemm);
  row("attention", b.attention);
  row("MoE experts", b.moe);
  row("communication", b.comm);
  row("overhead and elementwise", b.other);
  return t.Render("  ");
}

void RunEstimate(const EstimateFlags& f) {
  RequirePositive(f.isl, "--isl");
  RequirePositive(f.osl, "--osl");
  RequirePositive(f.batch, "--batch");
  if (f.chunk < 0) DieF("--chunk: must not be negative, got {}", f.chunk);
  if (f.phase != "prefill" && f.phase != "decode") {
    DieF("--phase: expected prefill or decode, got '{}'", f.phase);
  }
  const bool prefill = f.phase == "prefill";
  const double isl = f.isl, osl = f.osl, batch = f.batch, chunk_flag = f.chunk;
  if (!prefill && chunk_flag > 0) DieF("--chunk: applies to --phase prefill only");
  Specs specs = LoadSpecs(f.spec);
  perf::Mapping map = ResolveMapping(specs, f.mapping);
  const auto& model = specs.model;
  if (model.max_context > 0 && isl + osl > model.max_context) {
    std::fprintf(stderr, "warning: ISL + OSL = %.0f exceeds %s's context of %lld tokens\n",
                 isl + osl, model.name.c_str(), static_cast<long long>(model.max_context));
  }
  auto step = Unwrap(perf::StepModel::Create(model, specs.system, specs.precision, map,
                                             specs.backend, specs.speculation));
  const auto accuracy = CiteAccuracy(model.name, specs.system.name, specs.backend, "*");
  serving::Workload w{isl, osl};

  // Memory: the decode batch holds ISL + OSL tokens per sequence; a prefill
  // batch holds its prompts.
  const double rank_seqs = std::ceil(batch / map.dp);
  const double chunk = prefill && chunk_flag > 0 ? std::min(chunk_flag, isl) : isl;
  const double step_tokens =
      prefill ? rank_seqs * chunk : rank_seqs / map.pp * step.rows_per_decode();
  const double mtp_weights =
      specs.speculation.depth > 0 ? perf::MtpWeightBytesPerGpu(model, specs.precision, map) : 0;
  auto fit =
      parallel::FitMemory(model, specs.system, specs.precision, map, specs.backend, step_tokens,
                          prefill ? rank_seqs : rank_seqs / map.pp, mtp_weights);
  const double context = prefill ? isl : isl + osl;
  const int64_t max_batch = parallel::MaxSequences(fit, model, specs.precision, map, context);
  if (!fit.weights_fit) {
    DieF(
        "{} does not fit on {} GPUs of {}: weights need {} per GPU, activations {}, reserve {}, "
        "of {} HBM",
        model.name, map.gpus(), specs.system.name, report::Bytes(fit.weights),
        report::Bytes(fit.activations), report::Bytes(fit.reserved), report::Bytes(fit.hbm));
  }
  if (batch > static_cast<double>(max_batch)) {
    DieF(
        "--batch {}: the KV cache of {} sequences of {} tokens does not fit; at most {} fit "
        "({} of KV cache per GPU, {} per sequence per GPU)",
        batch, batch, context, max_batch, report::Bytes(fit.kv_budget),
        report::Bytes(perf::KvBytesPerSequencePerGpu(model, specs.precision, map, context)));
  }
  const double kv_per_token = model.KvElementsPerToken() * BytesPerElement(specs.precision.kv);
  const double kv_used =
      perf::KvBytesPerSequencePerGpu(model, specs.precision, map, context) * rank_seqs;
  const double free_bytes = fit.hbm - fit.reserved - fit.weights - fit.activations - kv_used;

  Json out;
  out["model"] = model.name;
  out["system"] = specs.system.name;
  out["precision"] = specs.precision.name;
  out["backend"] = std::string(hardware::BackendName(specs.backend));
  out["phase"] = f.phase;
  out["mapping"] = Json{{"tp", map.tp},     {"pp", map.pp},         {"dp_attn", map.dp},
                        {"ep", map.moe_ep}, {"moe_tp", map.moe_tp}, {"gpus", map.gpus()}};
  const int slots = model.is_moe() ? perf::ExpertSlotsPerRank(model.num_experts, map) : 0;
  if (model.is_moe()) out["mapping"]["expert_slots_per_gpu"] = slots;
  out["batch"] = batch;
  out["mtp"] = Json{{"depth", specs.speculation.depth},
                    {"acceptance", specs.speculation.acceptance},
                    {"tokens_per_step", step.tokens_per_step()}};
  out["isl"] = isl;
  out["osl"] = osl;
  out["memory_bytes"] = Json{{"hbm", fit.hbm},
                             {"reserved", fit.reserved},
                             {"weights", fit.weights},
                             {"activations", fit.activations},
                             {"kv_budget", fit.kv_budget},
                             {"kv_used", kv_used},
                             {"free", free_bytes}};
  out["kv_capacity_tokens"] = fit.kv_tokens;
  out["max_batch"] = max_batch;
  out["kv_bytes_per_token"] = kv_per_token;
  out["kv_bytes_per_token_per_gpu"] = fit.kv_bytes_per_token;

  std::string text;
  text +=
      fmt::format("{} on {} ({}), {}, {}\n", model.name, specs.system.name, specs.system.gpu.name,
                  specs.precision.name, hardware::BackendName(specs.backend));
  text += fmt::format("mapping {} ({} GPUs), {} batch {}, ISL {}, OSL {}\n", map.Label(),
                      map.gpus(), f.phase, batch, isl, osl);
  if (slots * map.moe_ep > model.num_experts) {
    // Not a divisor: the engine must be launched with this many slots.
    text += fmt::format(
        "expert slots: {} per GPU, {} in all for {} experts ({} replicas placed by the engine's "
        "expert load balancer, e.g. TensorRT-LLM num_slots, SGLang --ep-num-redundant-experts)\n",
        slots, slots * map.moe_ep, model.num_experts, slots * map.moe_ep - model.num_experts);
  }
  if (specs.speculation.depth > 0) {
    text += fmt::format(
        "MTP speculative decoding: {} drafted tokens per step, acceptance {}, {:.2f} tokens per "
        "decode step (times below are per token)\n",
        specs.speculation.depth, specs.speculation.acceptance, step.tokens_per_step());
  }
  text += "\n";
  perf::StepBreakdown breakdown;
  if (prefill) {
    auto p = serving::EvaluatePrefill(step, batch, w, chunk_flag);
    out["chunk"] = chunk;
    out["chunks"] = p.timing.chunks;
    out["ftl_s"] = p.ftl;
    out["requests_per_s_per_gpu"] = p.requests_per_s_per_gpu;
    out["tokens_per_s_per_gpu"] = p.requests_per_s_per_gpu * osl;
    out["prefill_tokens_per_s_per_gpu"] = p.requests_per_s_per_gpu * isl;
    out["kv_bytes_per_request"] = p.kv_bytes_per_request;
    out["kv_egress_bytes_per_s_per_gpu"] = p.kv_egress_bytes_per_s_per_gpu;
    breakdown = p.timing.breakdown;
    text += fmt::format("  FTL (prefill)          {}{}\n", report::Seconds(p.ftl),
                        p.timing.chunks > 1 ? fmt::format("  ({} chunks of {} through {} stages)",
                                                          p.timing.chunks, chunk, map.pp)
                                            : "");
    text += fmt::format(
        "  throughput             {} requests/s/GPU = {} output tokens/s/GPU "
        "({} prompt tokens/s/GPU)\n",
        report::Sig3(p.requests_per_s_per_gpu), report::Sig3(p.requests_per_s_per_gpu * osl),
        report::Sig3(p.requests_per_s_per_gpu * isl));
    text += fmt::format("  KV to hand off         {} per request, egress {} per GPU\n",
                        report::Bytes(p.kv_bytes_per_request),
                        report::ByteRate(p.kv_egress_bytes_per_s_per_gpu));
  } else {
    auto d = serving::EvaluateDecode(step, batch, w);
    out["ttl_s"] = d.ttl;
    out["tokens_per_s_per_user"] = 1.0 / d.ttl;
    out["tokens_per_s_per_gpu"] = d.tokens_per_s_per_gpu;
    out["requests_per_s_per_gpu"] = d.requests_per_s_per_gpu;
    out["kv_ingress_bytes_per_s_per_gpu"] = d.kv_ingress_bytes_per_s_per_gpu;
    breakdown = d.step.breakdown;
    text +=
        fmt::format("  TTL                    {}  ({} tokens/s/user), context {} at steady state\n",
                    report::Seconds(d.ttl), report::Sig3(1.0 / d.ttl), isl + osl / 2);
    text +=
        fmt::format("  throughput             {} output tokens/s/GPU = {} requests/s/GPU\n",
                    report::Sig3(d.tokens_per_s_per_gpu), report::Sig3(d.requests_per_s_per_gpu));
    text += fmt::format("  KV ingress needed      {} per GPU\n",
                        report::ByteRate(d.kv_ingress_bytes_per_s_per_gpu));
  }
  out["breakdown_s"] = BreakdownJson(breakdown);
  out["measured_accuracy"] = accuracy.ToJson();
  text += "\n" + accuracy.Text("Measured accuracy");

  if (f.json) {
    std::fputs((out.dump(2) + "\n").c_str(), stdout);
    return;
  }
  text += fmt::format("\nMemory per GPU ({} HBM)\n", report::Bytes(fit.hbm));
  report::Table mem({"part", "bytes"});
  mem.AddRow({"weights", report::Bytes(fit.weights)});
  mem.AddRow({"activations", report::Bytes(fit.activations)});
  mem.AddRow({"runtime reserve", report::Bytes(fit.reserved)});
  mem.AddRow({fmt::format("KV cache used ({} sequences of {} tokens)", rank_seqs, context),
              report::Bytes(kv_used)});
  mem.AddRow({"free", report::Bytes(free_bytes)});
  text += mem.Render("  ");
  text += fmt::format("  KV capacity {} tokens; max batch {} at {} tokens per sequence\n",
                      report::Thousands(fit.kv_tokens), max_batch, context);
  text += fmt::format("  KV bytes per token {} (whole model, {}), {} per GPU\n",
                      report::Thousands(kv_per_token), DTypeName(specs.precision.kv),
                      report::Thousands(fit.kv_bytes_per_token));
  text +=
      fmt::format("\nWhere the time goes ({} of {})\n", prefill ? "the prefill" : "one decode step",
                  report::Seconds(breakdown.total()));
  text += BreakdownText(breakdown);
  std::fputs(text.c_str(), stdout);
}

}  // namespace

void AddEstimateCommand(CLI::App& app) {
  auto flags = std::make_shared<EstimateFlags>();
  auto* cmd = app.add_subcommand("estimate",
                                 "one deployment of one phase, analytically: FTL or "
                                 "TTL, throughput, memory, KV bandwidth, time breakdown");
  AddSpecFlags(cmd, flags->spec);
  AddMappingFlags(cmd, flags->mapping);
  cmd->add_option("--isl", flags->isl, "input tokens per request")->required();
  cmd->add_option("--osl", flags->osl, "output tokens per request")->required();
  cmd->add_option("--batch", flags->batch, "requests per prefill step, or decode batch")
      ->capture_default_str();
  cmd->add_option("--chunk", flags->chunk, "prefill chunk (CPP with --pp > 1); 0: whole prompt");
  cmd->add_option("--phase", flags->phase, "prefill or decode")->capture_default_str();
  cmd->add_flag("--json", flags->json, "machine-readable output on stdout");
  cmd->callback([flags] { RunEstimate(*flags); });
}

}  // namespace disagg::cli
