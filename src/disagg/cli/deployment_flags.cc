#include "disagg/cli/deployment_flags.h"

#include <charconv>

#include "disagg/parallel/mapping_check.h"

namespace disagg::cli {
namespace {

int ParseInt(std::string_view value, const char* flag, std::string_view key) {
  int v = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || ptr != value.data() + value.size()) {
    DieF("{}: {}={}: expected an integer", flag, key, value);
  }
  if (v < 0) DieF("{}: {}={}: must not be negative", flag, key, value);
  return v;
}

perf::Mapping MappingFromJson(const Json& j, const std::string& where) {
  JsonReader r(j, where);
  perf::Mapping m;
  m.tp = static_cast<int>(r.Integer("tp", 1, 1 << 15));
  m.pp = static_cast<int>(r.IntegerOr("pp", 1, 1, 1 << 15));
  m.dp = static_cast<int>(r.IntegerOr("dp_attn", 1, 1, 1 << 15));
  m.moe_ep = static_cast<int>(r.IntegerOr("ep", 1, 1, 1 << 15));
  m.moe_tp = static_cast<int>(r.IntegerOr("moe_tp", 1, 1, 1 << 15));
  if (auto done = r.Finish(false); !done) Die(done.error());
  return m;
}

}  // namespace

sim::PoolSpec ParsePoolSpec(const std::string& text, const char* flag, const Specs& specs) {
  sim::PoolSpec p;
  p.instances = 1;
  MappingFlags mf;
  std::string_view rest = text;
  if (rest.empty()) DieF("{}: empty pool description", flag);
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) DieF("{}: '{}': expected key=value", flag, item);
    std::string_view key = item.substr(0, eq), value = item.substr(eq + 1);
    int v = ParseInt(value, flag, key);
    if (key == "instances") {
      p.instances = v;
    } else if (key == "tp") {
      mf.tp = v;
    } else if (key == "pp") {
      mf.pp = v;
    } else if (key == "dp" || key == "dp_attn") {
      mf.dp = v;
    } else if (key == "ep") {
      mf.ep = v;
    } else if (key == "moe_tp") {
      mf.moe_tp = v;
    } else if (key == "batch") {
      p.max_batch = v;
    } else if (key == "chunk") {
      p.chunk = v;
    } else {
      DieF("{}: unknown key '{}' (expected instances, tp, pp, dp, ep, moe_tp, batch, chunk)", flag,
           key);
    }
  }
  if (p.instances < 1) DieF("{}: instances must be at least 1", flag);
  p.mapping = ResolveMapping(specs, mf);
  return p;
}

sim::Deployment DeploymentFromFrontier(const Json& doc, const std::string& path,
                                       const std::string& mode, int index) {
  if (!doc.is_object() || !doc.contains(mode) || !doc[mode].is_array()) {
    DieF("--from-frontier {}: no '{}' list (expected the output of disagg frontier --json)", path,
         mode);
  }
  const Json& list = doc[mode];
  if (index < 0 || index >= static_cast<int>(list.size())) {
    DieF("--point {}: the {} frontier of {} has {} points (0 to {})", index, mode, path,
         list.size(), static_cast<int>(list.size()) - 1);
  }
  const Json& p = list[index];
  const std::string where = fmt::format("{}: {}[{}]", path, mode, index);
  sim::Deployment d;
  try {
    if (mode == "disaggregated") {
      d.disaggregated = true;
      d.prefill.mapping = MappingFromJson(p.at("prefill"), where + ".prefill");
      d.prefill.max_batch = p.at("prefill").at("batch").get<int>();
      int chunk = static_cast<int>(p.at("prefill").value("chunk", 0.0));
      d.prefill.chunk = d.prefill.mapping.pp > 1 ? chunk : 0;
      d.prefill.instances = p.at("prefill_instances").get<int>();
      d.decode.mapping = MappingFromJson(p.at("decode"), where + ".decode");
      d.decode.max_batch = p.at("decode").at("batch").get<int>();
      d.decode.instances = p.at("decode_instances").get<int>();
    } else {
      d.colocated.mapping = MappingFromJson(p.at("mapping"), where + ".mapping");
      d.colocated.max_batch = static_cast<int>(std::ceil(p.at("batch").get<double>()));
      d.colocated.chunk = static_cast<int64_t>(p.value("chunk", 0.0));
      d.colocated.instances = 1;
      // Simulate the point with the step composition the search costed it
      // with: a piggyback point mixes, a prefill-first point prefills first.
      const std::string policy = p.value("policy", "");
      if (policy == "piggyback") d.colocated.prefill_first = 0;
      if (policy == "prefill-first") d.colocated.prefill_first = 1;
    }
  } catch (const Json::exception& e) {
    DieF("--from-frontier {}: point {} is missing a field ({})", where, index, e.what());
  }
  return d;
}

}  // namespace disagg::cli
