#include "disagg/calib/kernel_rows.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <expected>
#include <regex>
#include <set>

namespace disagg::calib {
namespace {

// A parsed row, or the reason it is skipped.
using Parsed = std::expected<KernelRow, std::string>;

std::unexpected<std::string> Skip(std::string reason) {
  return std::unexpected<std::string>(std::move(reason));
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool StartsWith(std::string_view s, std::string_view prefix) { return s.starts_with(prefix); }

// Seconds from a latency cell in microseconds or milliseconds.
std::optional<double> LatencySeconds(const MeasurementRow& r) {
  if (!std::isfinite(r.value) || r.value <= 0) return std::nullopt;
  if (Contains(r.metric, "(us)")) return r.value * 1e-6;
  if (Contains(r.metric, "(ms)")) return r.value * 1e-3;
  return std::nullopt;
}

// Per-GPU query and KV heads: stated as "(8 q heads,1 kv head)" or "(64 q, 8
// kv)", else from the Llama model size and TP ("Llama-8B TP1").
std::optional<std::pair<double, double>> AttentionHeads(const std::string& model) {
  static const std::regex stated(R"((\d+)\s*q(?:\s*heads)?\s*,\s*(\d+)\s*kv)");
  std::smatch m;
  if (std::regex_search(model, m, stated)) return std::pair{std::stod(m[1]), std::stod(m[2])};
  static const std::regex llama(R"(Llama-(\d+)B TP(\d+))");
  if (!std::regex_search(model, m, llama)) return std::nullopt;
  // Query and KV heads of Llama-3.x 8B / 70B / 405B.
  static const std::map<int, std::pair<double, double>> heads = {
      {8, {32, 8}}, {70, {64, 8}}, {405, {128, 8}}};
  auto it = heads.find(std::stoi(m[1]));
  double tp = std::stod(m[2]);
  if (it == heads.end() || tp < 1) return std::nullopt;
  return std::pair{it->second.first / tp, std::max(1.0, it->second.second / tp)};
}

std::optional<DType> KvDtype(std::string_view precision) {
  std::string p = Lower(precision);
  if (Contains(p, "kv fp8")) return DType::kFp8;
  if (Contains(p, "kv bfloat16") || Contains(p, "kv bf16") || Contains(p, "kv fp16")) {
    return DType::kBf16;
  }
  return std::nullopt;
}

// The first word of a precision cell as a compute dtype ("bfloat16 (TRT-LLM
// ...)" -> bf16, "FP8 (cuBLASLt)" -> fp8, "nvfp4" -> fp4).
std::optional<DType> ComputeDtype(std::string_view precision, std::string* word) {
  std::string p = Lower(precision);
  size_t end = p.find_first_of(" (,/");
  std::string first = p.substr(0, end);
  if (word != nullptr) *word = first;
  if (first == "fp8_block") return DType::kFp8;
  return ParseDType(first);
}

Parsed ParseGemm(const MeasurementRow& r, KernelRow row) {
  GemmShape g;
  std::string word;
  auto compute = ComputeDtype(r.precision, &word);
  if (!compute || *compute == DType::kInt4) {
    return Skip(fmt::format("GEMM: precision '{}' is not bf16, fp8 or fp4", r.precision));
  }
  g.compute = *compute;
  g.quant = word;
  auto m = NumberAfter(r.model, "m="), n = NumberAfter(r.model, "n="),
       k = NumberAfter(r.model, "k=");
  static const std::regex cube(R"((\d+)x(\d+)x(\d+))");
  std::smatch mm;
  if (!(m && n && k) && std::regex_search(r.model, mm, cube)) {
    m = std::stod(mm[1]);
    n = std::stod(mm[2]);
    k = std::stod(mm[3]);
  }
  if (!(m && n && k) || *m <= 0 || *n <= 0 || *k <= 0) {
    return Skip("GEMM: shape not stated as m, n, k (DeepGEMM grouped/peak rows)");
  }
  g.m = *m;
  g.n = *n;
  g.k = *k;
  g.library = Contains(r.precision, "TRT-LLM") ? GemmLibrary::kTrtllm : GemmLibrary::kVendorBlas;
  if (auto s = LatencySeconds(r)) {
    row.measured = *s;
  } else if (r.metric == "TFLOPS" && std::isfinite(r.value) && r.value > 0) {
    row.measured = 2.0 * g.m * g.n * g.k / (r.value * 1e12);
  } else {
    return Skip(fmt::format("GEMM: metric '{}' with value '{}' is not a latency or TFLOPS",
                            r.metric, r.value_text));
  }
  row.op = KernelOp::kGemm;
  row.shape = g;
  return row;
}

Parsed ParseAttention(const MeasurementRow& r, KernelRow row) {
  bool decode = StartsWith(r.model, "decode attention");
  bool context = StartsWith(r.model, "prefill attention");
  if (!decode && !context) {
    return Skip(
        "attention: a TFLOPS or bandwidth summary without batch and length (FlashAttention, "
        "FlashMLA)");
  }
  auto heads = AttentionHeads(r.model);
  auto head_dim = NumberAfter(r.model, "head_dim ");
  auto batch = NumberAfter(r.concurrency, "batch ");
  auto kv = KvDtype(r.precision);
  auto seconds = LatencySeconds(r);
  if (!heads || !head_dim || !batch || !kv) {
    return Skip("attention: heads, head_dim, batch or KV dtype not stated");
  }
  if (!Contains(Lower(r.precision), "bf16 compute")) {
    return Skip("attention: compute is not bf16");
  }
  if (!seconds) return Skip("attention: value is not one latency");
  row.measured = *seconds;
  if (decode) {
    auto len = NumberAfter(r.isl, "kv_len~");
    if (!len) return Skip("attention: decode row without kv_len");
    row.op = KernelOp::kDecodeAttention;
    row.shape = DecodeAttentionShape{*batch, *len, heads->first, heads->second, *head_dim, *kv};
  } else {
    auto seq = ParseNumber(r.isl);
    if (!seq || *seq <= 0) return Skip("attention: context row without a sequence length");
    row.op = KernelOp::kContextAttention;
    row.shape = ContextAttentionShape{*batch, *seq, heads->first, heads->second, *head_dim, *kv};
  }
  return row;
}

// nccl-tests sizes are powers of two printed with decimal units ("67MB" =
// 2^26 B, "1GB" = 2^30 B): the nearest power of two, when within 10%.
std::optional<double> MessageBytes(std::string_view model) {
  static const std::regex size(R"(msg (\d+(?:\.\d+)?)\s*(KB|MB|GB))");
  std::string text(model);
  std::smatch m;
  if (!std::regex_search(text, m, size)) return std::nullopt;
  double scale = m[2] == "KB" ? 1e3 : m[2] == "MB" ? 1e6 : 1e9;
  double bytes = std::stod(m[1]) * scale;
  double pow2 = std::exp2(std::round(std::log2(bytes)));
  return std::fabs(pow2 / bytes - 1) <= 0.1 ? pow2 : bytes;
}

Parsed ParseComm(const MeasurementRow& r, KernelRow row) {
  const std::string& model = r.model;
  AllReduceShape a;
  auto gpus = NumberAfter(r.parallelism, "");
  if (StartsWith(model, "NCCL ")) {
    if (!StartsWith(model, "NCCL all_reduce ")) {
      std::string what = model.substr(5, model.find(' ', 5) - 5);
      return Skip(fmt::format("collective: NCCL {} (only all-reduce is fitted)", what));
    }
    auto elements = NumberAfter(model, "all_reduce ");
    if (!elements) return Skip("all-reduce: element count not stated");
    a.bytes = *elements * 2.0;  // fp16 elements
    a.impl = AllReduceImpl::kNccl;
  } else if (StartsWith(model, "TRT-LLM AllReduce")) {
    auto elements = NumberAfter(model, "strategy) ");
    if (!elements) return Skip("all-reduce: element count not stated");
    a.bytes = *elements * 2.0;  // bf16 elements
    a.impl = AllReduceImpl::kTrtllmCustom;
  } else if (StartsWith(model, "nccl-tests all_reduce")) {
    // Bus bandwidth B of message S on n GPUs: time = S x 2(n-1)/n / B.
    auto bytes = MessageBytes(model);
    if (!bytes || !gpus || *gpus < 2 || !std::isfinite(r.value) || r.value <= 0 ||
        !Contains(r.metric, "bus bandwidth GB/s")) {
      return Skip("all-reduce: nccl-tests row without message size, GPUs or bus bandwidth");
    }
    a.gpus = static_cast<int>(*gpus);
    a.bytes = *bytes;
    a.impl = AllReduceImpl::kNccl;
    row.op = KernelOp::kAllReduce;
    row.measured = a.bytes * 2.0 * (a.gpus - 1) / a.gpus / (r.value * 1e9);
    row.shape = a;
    return row;
  } else {
    return Skip("collective: not an all-reduce (copy bandwidth, DeepEP, KV transfer)");
  }
  auto seconds = LatencySeconds(r);
  if (!gpus || *gpus < 2 || !seconds) return Skip("all-reduce: GPU count or latency not stated");
  a.gpus = static_cast<int>(*gpus);
  row.op = KernelOp::kAllReduce;
  row.measured = *seconds;
  row.shape = a;
  return row;
}

Parsed ParseMoe(const MeasurementRow& r, KernelRow row) {
  MoeShape s;
  auto hidden = NumberAfter(r.model, "hidden "), inter = NumberAfter(r.model, "inter ");
  auto top_k = NumberAfter(r.model, "top-");
  static const std::regex experts(R"((\d+) experts)");
  std::smatch m;
  auto tokens = NumberAfter(r.concurrency, "num_tokens=");
  auto tp = NumberAfter(r.parallelism, "moe_tp"), ep = NumberAfter(r.parallelism, "moe_ep");
  std::string word;
  auto compute = ComputeDtype(r.precision, &word);
  auto seconds = LatencySeconds(r);
  if (!hidden || !inter || !top_k || !std::regex_search(r.model, m, experts) || !tokens || !tp ||
      !ep || !compute || !seconds) {
    return Skip(
        "MoE: hidden, inter, experts, top-k, tokens, moe_tp/moe_ep, dtype or latency not "
        "stated");
  }
  s.hidden = *hidden;
  s.inter = *inter;
  s.top_k = static_cast<int>(*top_k);
  s.experts = std::stoi(m[1]);
  s.tokens = *tokens;
  s.tp = static_cast<int>(*tp);
  s.ep = static_cast<int>(*ep);
  s.compute = *compute;
  s.quant = word;
  if (size_t at = r.model.find("kernel "); at != std::string::npos)
    s.kernel = r.model.substr(at + 7);
  if (s.tp < 1 || s.ep < 1 || s.experts < s.ep || s.top_k < 1 || s.tokens <= 0) {
    return Skip("MoE: inconsistent shape");
  }
  row.op = KernelOp::kMoe;
  row.measured = *seconds;
  row.shape = s;
  return row;
}

Parsed ParseHbm(const MeasurementRow& r, KernelRow row) {
  // "HBM bandwidth TB/s Copy/Mul/Add/Triad/Dot" with "2.9/2.9/2.97/2.97/3.18":
  // the Triad value; a single-valued row as it is.
  if (!StartsWith(r.metric, "HBM bandwidth TB/s")) return Skip("HBM: metric is not TB/s");
  std::string names = r.metric.substr(std::string_view("HBM bandwidth TB/s").size());
  std::vector<std::string> labels, values;
  auto split = [](std::string_view s, std::vector<std::string>& out) {
    size_t begin = 0;
    while (true) {
      size_t end = s.find('/', begin);
      out.emplace_back(s.substr(begin, end == std::string_view::npos ? end : end - begin));
      if (end == std::string_view::npos) break;
      begin = end + 1;
    }
  };
  split(r.value_text, values);
  HbmStreamShape h;
  double tb_per_s = 0;
  if (values.size() == 1) {
    auto v = ParseNumber(values[0]);
    if (!v) return Skip("HBM: value is not a number");
    tb_per_s = *v;
    h.kernel = r.model;
  } else {
    split(names, labels);
    auto it = std::find_if(labels.begin(), labels.end(),
                           [](const std::string& l) { return Contains(l, "Triad"); });
    if (labels.size() != values.size() || it == labels.end()) {
      return Skip("HBM: multi-valued row without a Triad column");
    }
    auto v = ParseNumber(values[it - labels.begin()]);
    if (!v) return Skip("HBM: Triad value is not a number");
    tb_per_s = *v;
    h.kernel = "STREAM Triad";
  }
  if (tb_per_s <= 0) return Skip("HBM: bandwidth is not positive");
  row.op = KernelOp::kHbmStream;
  row.measured = tb_per_s * 1e12;
  row.shape = h;
  return row;
}

Parsed ParseRow(const MeasurementRow& r) {
  auto system = CatalogSystemFor(r.hardware);
  if (!system) {
    return Skip(
        fmt::format("hardware '{}' is not a catalog system with kernel tables (h100_sxm, "
                    "h200_sxm, b200_sxm, gb200)",
                    r.hardware));
  }
  KernelRow row;
  row.system = *system;
  row.source = SourceKey(r.source);
  row.line = r.line;
  if (!std::isfinite(r.value) && r.category != "KERNEL-HBM") {
    return Skip(fmt::format("{}: value is not one number (a range, ratio or list)", r.category));
  }
  if (r.category == "KERNEL-GEMM") return ParseGemm(r, std::move(row));
  if (r.category == "KERNEL-ATTN") return ParseAttention(r, std::move(row));
  if (r.category == "KERNEL-COMM") return ParseComm(r, std::move(row));
  if (r.category == "KERNEL-MOE") return ParseMoe(r, std::move(row));
  if (r.category == "KERNEL-HBM") return ParseHbm(r, std::move(row));
  return Skip(fmt::format("{}: no op formula for this row ({})", r.category, r.model));
}

}  // namespace

std::string_view KernelOpName(KernelOp op) {
  switch (op) {
    case KernelOp::kGemm:
      return "GEMM";
    case KernelOp::kDecodeAttention:
      return "decode attention";
    case KernelOp::kContextAttention:
      return "context attention";
    case KernelOp::kAllReduce:
      return "all-reduce";
    case KernelOp::kMoe:
      return "MoE experts";
    case KernelOp::kHbmStream:
      return "HBM stream";
  }
  return "?";
}

std::string KernelRow::Label() const {
  struct Visitor {
    const KernelRow& r;
    std::string operator()(const GemmShape& g) const {
      return fmt::format("{} GEMM {}{} m={} n={} k={}", r.source, g.quant,
                         g.library == GemmLibrary::kVendorBlas ? " (BLAS)" : "", g.m, g.n, g.k);
    }
    std::string operator()(const DecodeAttentionShape& a) const {
      return fmt::format("{} decode attn q{} kv{} KV {} len {} batch {}", r.source, a.q_heads,
                         a.kv_heads, DTypeName(a.kv), a.kv_len, a.batch);
    }
    std::string operator()(const ContextAttentionShape& a) const {
      return fmt::format("{} context attn q{} kv{} KV {} s {} batch {}", r.source, a.q_heads,
                         a.kv_heads, DTypeName(a.kv), a.seq, a.batch);
    }
    std::string operator()(const AllReduceShape& a) const {
      return fmt::format("{} all-reduce {} n{} {} B", r.source,
                         a.impl == AllReduceImpl::kNccl ? "NCCL" : "TRT-LLM", a.gpus, a.bytes);
    }
    std::string operator()(const MoeShape& m) const {
      return fmt::format("{} MoE {} {} ep{} tp{} tokens {}", r.source, m.quant, m.kernel, m.ep,
                         m.tp, m.tokens);
    }
    std::string operator()(const HbmStreamShape& h) const {
      return fmt::format("{} HBM {}", r.source, h.kernel);
    }
  };
  return std::visit(Visitor{*this}, shape);
}

std::vector<std::string> KernelRowSet::Systems() const {
  std::set<std::string> s;
  for (const auto& r : rows) s.insert(r.system);
  return {s.begin(), s.end()};
}

int KernelRowSet::SkippedCount() const {
  int n = 0;
  for (const auto& [reason, count] : skipped) n += count;
  return n;
}

std::optional<std::string> CatalogSystemFor(std::string_view hardware) {
  std::string h = Lower(hardware);
  // "8xH100-SXM-80GB": drop the GPU-count prefix.
  size_t digits = 0;
  while (digits < h.size() && std::isdigit(static_cast<unsigned char>(h[digits]))) ++digits;
  if (digits > 0 && digits < h.size() && h[digits] == 'x') h = h.substr(digits + 1);
  // A slash outside parentheses names two GPUs ("H800 SXM5 / B200").
  if (Contains(h.substr(0, h.find('(')), "/")) return std::nullopt;
  auto token = [&](std::string_view t) {
    return h.starts_with(t) &&
           (h.size() == t.size() || !std::isalnum(static_cast<unsigned char>(h[t.size()])));
  };
  if (token("gb200")) return "gb200";
  if (token("b200")) return "b200_sxm";
  if (token("h200")) return "h200_sxm";
  if (token("h100")) return "h100_sxm";
  return std::nullopt;
}

KernelRowSet KernelRowsFrom(const std::vector<MeasurementRow>& rows, std::string origin) {
  KernelRowSet set;
  set.origin = std::move(origin);
  for (const auto& r : rows) {
    ++set.total;
    if (!r.category.starts_with("KERNEL")) {
      ++set.other_categories;
      continue;
    }
    auto parsed = ParseRow(r);
    if (parsed) {
      set.rows.push_back(std::move(*parsed));
    } else {
      ++set.skipped[parsed.error()];
    }
  }
  return set;
}

Result<KernelRowSet> ReadKernelRows(const std::string& path) {
  auto rows = ReadMeasurements(path);
  if (!rows) return std::unexpected(rows.error());
  return KernelRowsFrom(*rows, path);
}

}  // namespace disagg::calib
