#include "disagg/hardware/system_spec.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

namespace disagg::hardware {
namespace {

namespace fs = std::filesystem;

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

// A complete, valid spec (the H100 numbers of data/hardware/h100_sxm.json).
Json ValidSpec() {
  return Json::parse(R"({
    "name": "test_sys",
    "description": "a test system",
    "gpu": {
      "name": "TestGPU",
      "peak_tflops": {"bf16": 989.4, "fp8": 1978.9},
      "hbm_gib": 79.65,
      "hbm_tb_per_s": 3.35,
      "nvlink_gb_per_s": 450
    },
    "nvlink_domain": 8,
    "nvlink_latency_us": 3.0,
    "scaleout_gb_per_s": 50,
    "scaleout_latency_us": 10.0,
    "sources": {"gpu.hbm_gib": "datasheet"}
  })");
}

// The error message of parsing `spec` as file "my_sys.json".
std::string ErrorOf(const Json& spec) {
  auto s = ParseSystemSpec(spec, "my_sys.json");
  EXPECT_FALSE(s.has_value()) << "expected an error";
  return s ? "" : s.error().message;
}

TEST(SystemSpec, ValidSpecParses) {
  auto s = ParseSystemSpec(ValidSpec(), "my_sys.json");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->name, "test_sys");
  EXPECT_EQ(s->description, "a test system");
  EXPECT_EQ(s->source, "my_sys.json");
  EXPECT_EQ(s->gpu.name, "TestGPU");
  EXPECT_EQ(s->sources.at("gpu.hbm_gib"), "datasheet");
}

TEST(SystemSpec, EveryCatalogSystemParses) {
  auto names = CatalogSystemNames();
  // data/hardware holds a100_sxm, b200_sxm, b300_sxm, gb200, gb300, h100_sxm,
  // h200_sxm and mi300x.
  EXPECT_GE(names.size(), 8u);
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  for (const auto& name : names) {
    SCOPED_TRACE(name);
    auto s = LoadSystem(name);
    ASSERT_TRUE(s.has_value()) << s.error().message;
    EXPECT_EQ(s->name, name);  // the file's name matches its "name"
    EXPECT_GT(s->gpu.PeakFlops(DType::kBf16), 0);
    EXPECT_GT(s->gpu.hbm_bytes, 0);
    EXPECT_GT(s->gpu.hbm_bw, 0);
    EXPECT_GT(s->gpu.nvlink_bw, 0);
    EXPECT_GE(s->nvlink_domain, 1);
    // Every number carries its source (data/hardware/README.md).
    for (const char* key :
         {"gpu.peak_tflops", "gpu.hbm_gib", "gpu.hbm_tb_per_s", "gpu.nvlink_gb_per_s",
          "nvlink_domain", "nvlink_latency_us", "scaleout_gb_per_s", "scaleout_latency_us"}) {
      EXPECT_TRUE(s->sources.contains(key)) << "no source for " << key;
    }
  }
}

TEST(SystemSpec, H100ConvertedToSi) {
  auto s = LoadSystem("h100_sxm");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  const GpuSpec& g = s->gpu;
  // Datasheet dense peaks: 989.4 / 1978.9 TFLOPS; no FP4 tensor cores.
  EXPECT_DOUBLE_EQ(g.PeakFlops(DType::kBf16), 989.4e12);
  EXPECT_DOUBLE_EQ(g.PeakFlops(DType::kFp8), 1978.9e12);
  EXPECT_FALSE(g.Supports(DType::kNvfp4));
  EXPECT_TRUE(g.Supports(DType::kFp8));
  // 79.65 GiB = 79.65 x 2^30 = 85,523,536,281.6 bytes.
  EXPECT_NEAR(g.hbm_bytes, 85523536281.6, 1.0);
  EXPECT_DOUBLE_EQ(g.hbm_bw, 3.35e12);   // 3.35 TB/s
  EXPECT_DOUBLE_EQ(g.nvlink_bw, 450e9);  // 450 GB/s per direction
  EXPECT_EQ(s->nvlink_domain, 8);
  EXPECT_DOUBLE_EQ(s->nvlink_latency, 3e-6);     // 3.0 us
  EXPECT_DOUBLE_EQ(s->scaleout_bw, 50e9);        // 400 Gb/s = 50 GB/s
  EXPECT_DOUBLE_EQ(s->scaleout_latency, 10e-6);  // 10 us
}

TEST(SystemSpec, BlackwellHasFp4AndA100HasNoFp8) {
  auto b200 = LoadSystem("b200_sxm");
  ASSERT_TRUE(b200.has_value()) << b200.error().message;
  EXPECT_DOUBLE_EQ(b200->gpu.PeakFlops(DType::kNvfp4), 9000e12);  // 9 PF dense FP4
  auto gb200 = LoadSystem("gb200");
  ASSERT_TRUE(gb200.has_value()) << gb200.error().message;
  EXPECT_EQ(gb200->nvlink_domain, 72);  // NVL72
  auto a100 = LoadSystem("a100_sxm");
  ASSERT_TRUE(a100.has_value()) << a100.error().message;
  EXPECT_FALSE(a100->gpu.Supports(DType::kFp8));
  EXPECT_DOUBLE_EQ(a100->gpu.PeakFlops(DType::kBf16), 312e12);
}

TEST(SystemSpec, UnknownTopLevelKey) {
  Json j = ValidSpec();
  j["colour"] = "green";
  std::string e = ErrorOf(j);
  EXPECT_TRUE(Contains(e, "my_sys.json"));
  EXPECT_TRUE(Contains(e, "colour"));
  EXPECT_TRUE(Contains(e, "unknown key"));
}

TEST(SystemSpec, UnknownNestedKey) {
  Json j = ValidSpec();
  j["gpu"]["peak_tflops"]["fp9"] = 5000;
  std::string e = ErrorOf(j);
  EXPECT_TRUE(Contains(e, "my_sys.json"));
  EXPECT_TRUE(Contains(e, "gpu.peak_tflops.fp9"));
  EXPECT_TRUE(Contains(e, "unknown key"));

  j = ValidSpec();
  j["gpu"]["hbm_gb"] = 80;
  e = ErrorOf(j);
  EXPECT_TRUE(Contains(e, "gpu.hbm_gb"));
}

TEST(SystemSpec, MissingFields) {
  for (const char* key : {"name", "nvlink_domain", "nvlink_latency_us", "scaleout_gb_per_s",
                          "scaleout_latency_us", "gpu"}) {
    SCOPED_TRACE(key);
    Json j = ValidSpec();
    j.erase(key);
    std::string e = ErrorOf(j);
    EXPECT_TRUE(Contains(e, "my_sys.json"));
    EXPECT_TRUE(Contains(e, key));
    EXPECT_TRUE(Contains(e, "missing"));
  }
  for (const char* key : {"name", "hbm_gib", "hbm_tb_per_s", "nvlink_gb_per_s", "peak_tflops"}) {
    SCOPED_TRACE(key);
    Json j = ValidSpec();
    j["gpu"].erase(key);
    std::string e = ErrorOf(j);
    EXPECT_TRUE(Contains(e, "my_sys.json"));
    EXPECT_TRUE(Contains(e, std::string("gpu.") + key));
    EXPECT_TRUE(Contains(e, "missing"));
  }
}

TEST(SystemSpec, MissingBf16Peak) {
  Json j = ValidSpec();
  j["gpu"]["peak_tflops"].erase("bf16");
  std::string e = ErrorOf(j);
  EXPECT_TRUE(Contains(e, "my_sys.json"));
  EXPECT_TRUE(Contains(e, "gpu.peak_tflops.bf16"));
}

TEST(SystemSpec, WrongTypes) {
  {
    Json j = ValidSpec();
    j["nvlink_domain"] = "eight";
    std::string e = ErrorOf(j);
    EXPECT_TRUE(Contains(e, "my_sys.json"));
    EXPECT_TRUE(Contains(e, "nvlink_domain"));
    EXPECT_TRUE(Contains(e, "\"eight\""));
  }
  {
    Json j = ValidSpec();
    j["nvlink_domain"] = 8.5;
    std::string e = ErrorOf(j);
    EXPECT_TRUE(Contains(e, "nvlink_domain"));
    EXPECT_TRUE(Contains(e, "8.5"));
  }
  {
    Json j = ValidSpec();
    j["gpu"]["hbm_gib"] = "80GiB";
    std::string e = ErrorOf(j);
    EXPECT_TRUE(Contains(e, "gpu.hbm_gib"));
    EXPECT_TRUE(Contains(e, "\"80GiB\""));
  }
  {
    Json j = ValidSpec();
    j["gpu"] = 3;
    std::string e = ErrorOf(j);
    EXPECT_TRUE(Contains(e, "my_sys.json"));
    EXPECT_TRUE(Contains(e, "gpu"));
  }
  {
    Json j = ValidSpec();
    j["name"] = Json::array({"h100"});
    EXPECT_TRUE(Contains(ErrorOf(j), "name"));
  }
  {
    Json j = ValidSpec();
    j["sources"]["nvlink_domain"] = 8;
    std::string e = ErrorOf(j);
    EXPECT_TRUE(Contains(e, "sources"));
    EXPECT_TRUE(Contains(e, "nvlink_domain"));
  }
  {
    Json j = ValidSpec();
    j["hbm_gib"] = nullptr;  // at the wrong level: unknown
    EXPECT_TRUE(Contains(ErrorOf(j), "hbm_gib"));
  }
}

TEST(SystemSpec, RequiredFieldMayNotBeNull) {
  Json j = ValidSpec();
  j["gpu"]["hbm_gib"] = nullptr;
  std::string e = ErrorOf(j);
  EXPECT_TRUE(Contains(e, "my_sys.json"));
  EXPECT_TRUE(Contains(e, "gpu.hbm_gib"));
}

TEST(SystemSpec, NegativeAndZeroValues) {
  struct Case {
    const char* path;  // JSON pointer
    double value;
    const char* key;
  };
  for (const Case& c : {Case{"/scaleout_gb_per_s", -50, "scaleout_gb_per_s"},
                        Case{"/gpu/hbm_tb_per_s", -3.35, "gpu.hbm_tb_per_s"},
                        Case{"/gpu/nvlink_gb_per_s", 0, "gpu.nvlink_gb_per_s"},
                        Case{"/gpu/hbm_gib", -1, "gpu.hbm_gib"},
                        Case{"/gpu/peak_tflops/fp8", -1, "gpu.peak_tflops.fp8"},
                        Case{"/nvlink_domain", 0, "nvlink_domain"},
                        Case{"/nvlink_latency_us", -3, "nvlink_latency_us"}}) {
    SCOPED_TRACE(c.key);
    Json j = ValidSpec();
    j[Json::json_pointer(c.path)] = c.value;
    std::string e = ErrorOf(j);
    EXPECT_TRUE(Contains(e, "my_sys.json"));
    EXPECT_TRUE(Contains(e, c.key));
    EXPECT_TRUE(Contains(e, "out of range"));
  }
}

TEST(SystemSpec, NotAnObject) {
  std::string e = ErrorOf(Json::array());
  EXPECT_TRUE(Contains(e, "my_sys.json"));
  EXPECT_TRUE(Contains(e, "expected a JSON object"));
}

TEST(SystemSpec, DefaultCalibrationWhenAbsent) {
  auto s = ParseSystemSpec(ValidSpec(), "my_sys.json");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  Calibration defaults;
  EXPECT_DOUBLE_EQ(s->calibration.gemm_eff_bf16, defaults.gemm_eff_bf16);
  EXPECT_DOUBLE_EQ(s->calibration.runtime_reserved, defaults.runtime_reserved);
  // Without serving measurements the engines' GEMMs run as benchmarked.
  EXPECT_DOUBLE_EQ(s->calibration.engine_gemm_bf16, 1.0);
  EXPECT_DOUBLE_EQ(s->calibration.engine_gemm_fp8, 1.0);
  EXPECT_DOUBLE_EQ(s->calibration.engine_gemm_fp4, 1.0);
  // Documented per-backend defaults: 0.5, 1.0, 1.5 ms for trtllm, sglang, vllm.
  EXPECT_DOUBLE_EQ(s->calibration.step_overhead[static_cast<int>(Backend::kTrtllm)], 0.5e-3);
  EXPECT_DOUBLE_EQ(s->calibration.step_overhead[static_cast<int>(Backend::kSglang)], 1.0e-3);
  EXPECT_DOUBLE_EQ(s->calibration.step_overhead[static_cast<int>(Backend::kVllm)], 1.5e-3);
  EXPECT_TRUE(s->calibration.sources.empty());
}

TEST(SystemSpec, CalibrationAsObjectsAndBareNumbers) {
  Json j = ValidSpec();
  j["calibration"] = Json::parse(R"({
    "gemm_eff_bf16": {"value": 0.7, "source": "fit to S12"},
    "mem_eff": 0.85,
    "kernel_overhead_us": {"value": 4},
    "runtime_reserved_gib": 2,
    "step_overhead_us": {"trtllm": 300, "vllm": {"value": 2000, "source": "fit to S30"}}
  })");
  auto s = ParseSystemSpec(j, "my_sys.json");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  const Calibration& c = s->calibration;
  EXPECT_DOUBLE_EQ(c.gemm_eff_bf16, 0.7);
  EXPECT_DOUBLE_EQ(c.mem_eff, 0.85);
  EXPECT_DOUBLE_EQ(c.kernel_overhead, 4e-6);               // 4 us
  EXPECT_DOUBLE_EQ(c.runtime_reserved, 2 * 1073741824.0);  // 2 GiB = 2 x 2^30
  EXPECT_DOUBLE_EQ(c.step_overhead[0], 300e-6);            // trtllm 300 us
  EXPECT_DOUBLE_EQ(c.step_overhead[1], 1.0e-3);            // sglang default
  EXPECT_DOUBLE_EQ(c.step_overhead[2], 2e-3);              // vllm 2000 us
  EXPECT_EQ(c.sources.at("gemm_eff_bf16"), "fit to S12");
  EXPECT_EQ(c.sources.at("step_overhead_us.vllm"), "fit to S30");
  EXPECT_FALSE(c.sources.contains("mem_eff"));
}

TEST(SystemSpec, CalibrationErrors) {
  struct Case {
    const char* calibration;
    const char* expect;
  };
  for (const Case& c : {
           Case{R"({"gemm_eff_bf16x": 0.7})", "calibration.gemm_eff_bf16x"},
           Case{R"({"gemm_eff_bf16": 1.5})", "calibration.gemm_eff_bf16"},
           Case{R"({"gemm_eff_bf16": "high"})", "calibration.gemm_eff_bf16"},
           Case{R"({"engine_gemm_fp8": 0})", "calibration.engine_gemm_fp8"},
           Case{R"({"engine_gemm_fp4": 5})", "calibration.engine_gemm_fp4"},
           Case{R"({"mem_eff": {"source": "x"}})", "calibration.mem_eff.value"},
           Case{R"({"mem_eff": {"value": 0.8, "note": "x"}})", "calibration.mem_eff.note"},
           Case{R"({"mem_eff": {"value": 0.8, "source": 3}})", "calibration.mem_eff.source"},
           Case{R"({"step_overhead_us": {"tgi": 100}})", "calibration.step_overhead_us.tgi"},
           Case{R"({"step_overhead_us": {"vllm": -1}})", "calibration.step_overhead_us.vllm"},
           Case{R"({"step_overhead_us": 100})", "calibration.step_overhead_us"},
           Case{R"([0.8])", "calibration"},
       }) {
    SCOPED_TRACE(c.calibration);
    Json j = ValidSpec();
    j["calibration"] = Json::parse(c.calibration);
    std::string e = ErrorOf(j);
    EXPECT_TRUE(Contains(e, "my_sys.json"));
    EXPECT_TRUE(Contains(e, c.expect));
  }
}

TEST(SystemSpec, CalibrationRoundTrips) {
  Json in = Json::parse(R"({
    "gemm_eff_bf16": {"value": 0.71, "source": "fit"},
    "gemm_tile_rows": 96,
    "attn_decode_eff": 0.66,
    "kernel_overhead_us": 3.5,
    "runtime_reserved_gib": 4.5,
    "step_overhead_us": {"sglang": {"value": 1234, "source": "fit sglang"}}
  })");
  JsonReader r1(in, "cal.json", "calibration");
  auto c1 = ParseCalibration(r1);
  ASSERT_TRUE(c1.has_value()) << c1.error().message;

  Json out = CalibrationToJson(*c1);
  // Written in JSON units, every value as {"value": x[, "source": s]}.
  EXPECT_DOUBLE_EQ(out["kernel_overhead_us"]["value"].get<double>(), 3.5);
  EXPECT_DOUBLE_EQ(out["runtime_reserved_gib"]["value"].get<double>(), 4.5);
  EXPECT_DOUBLE_EQ(out["step_overhead_us"]["sglang"]["value"].get<double>(), 1234);
  EXPECT_EQ(out["gemm_eff_bf16"]["source"], "fit");
  // The scalar parameters plus one object per per-backend parameter.
  EXPECT_EQ(out.size(), CalibrationParams().size() + BackendParams().size());

  JsonReader r2(out, "cal2.json", "calibration");
  auto c2 = ParseCalibration(r2);
  ASSERT_TRUE(c2.has_value()) << c2.error().message;
  for (const auto& p : CalibrationParams()) {
    EXPECT_DOUBLE_EQ((*c1).*p.field, (*c2).*p.field) << p.key;
  }
  for (const auto& bp : BackendParams()) {
    for (int i = 0; i < kNumBackends; ++i) {
      EXPECT_DOUBLE_EQ(((*c1).*bp.field)[i], ((*c2).*bp.field)[i]) << bp.key;
    }
  }
  EXPECT_EQ(c1->sources, c2->sources);
  EXPECT_DOUBLE_EQ(c2->step_overhead[1], 1234e-6);
  EXPECT_DOUBLE_EQ(c2->runtime_reserved, 4.5 * 1073741824.0);
  // Writing again gives the same block (up to unit-conversion rounding).
  Json again = CalibrationToJson(*c2);
  ASSERT_EQ(again.size(), out.size());
  for (const auto& [key, entry] : out.items()) {
    bool per_backend = std::any_of(BackendParams().begin(), BackendParams().end(),
                                   [&](const BackendParam& bp) { return bp.key == key; });
    if (per_backend) continue;
    EXPECT_DOUBLE_EQ(again[key]["value"].get<double>(), entry["value"].get<double>()) << key;
    EXPECT_EQ(again[key].value("source", ""), entry.value("source", "")) << key;
  }

  // The written block also parses inside a whole system spec.
  Json spec = ValidSpec();
  spec["calibration"] = out;
  auto s = ParseSystemSpec(spec, "my_sys.json");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_DOUBLE_EQ(s->calibration.gemm_eff_bf16, 0.71);
}

TEST(SystemSpec, CalibrationParamsAreWellFormed) {
  Calibration defaults;
  for (const auto& p : CalibrationParams()) {
    SCOPED_TRACE(std::string(p.key));
    EXPECT_GT(p.to_si, 0);
    EXPECT_LE(p.min, p.max);
    double json_value = defaults.*p.field / p.to_si;
    EXPECT_GE(json_value, p.min);  // the defaults are themselves legal
    EXPECT_LE(json_value, p.max);
  }
}

TEST(Backend, ParsesNamesAndAliases) {
  EXPECT_EQ(ParseBackend("trtllm").value(), Backend::kTrtllm);
  EXPECT_EQ(ParseBackend("sglang").value(), Backend::kSglang);
  EXPECT_EQ(ParseBackend("vllm").value(), Backend::kVllm);
  EXPECT_EQ(ParseBackend("tensorrt-llm").value(), Backend::kTrtllm);
  EXPECT_EQ(ParseBackend("tensorrt_llm").value(), Backend::kTrtllm);
  for (Backend b : {Backend::kTrtllm, Backend::kSglang, Backend::kVllm}) {
    EXPECT_EQ(ParseBackend(BackendName(b)).value(), b);
  }
  auto bad = ParseBackend("tgi");
  ASSERT_FALSE(bad.has_value());
  EXPECT_TRUE(Contains(bad.error().message, "'tgi'"));
  EXPECT_FALSE(ParseBackend("").has_value());
  EXPECT_FALSE(ParseBackend("VLLM").has_value());
}

class SystemFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("disagg_system_spec_test_{}_{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }
  fs::path dir_;
};

TEST_F(SystemFileTest, LoadsAFilePath) {
  std::string path = Write("mine.json", ValidSpec().dump(2));
  auto s = LoadSystem(path);
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->source, path);
  EXPECT_EQ(s->name, "test_sys");
}

TEST_F(SystemFileTest, ErrorsInAFileNameThePath) {
  Json j = ValidSpec();
  j["gpu"]["hbm_tb_per_s"] = -1;
  std::string path = Write("neg.json", j.dump(2));
  auto s = LoadSystem(path);
  ASSERT_FALSE(s.has_value());
  EXPECT_TRUE(Contains(s.error().message, path));
  EXPECT_TRUE(Contains(s.error().message, "gpu.hbm_tb_per_s"));
}

TEST_F(SystemFileTest, MalformedFileNamesLineAndColumn) {
  // Line 2 is `  "name": ,`: the ',' is its 11th character.
  std::string path = Write("bad.json", "{\n  \"name\": ,\n}\n");
  auto s = LoadSystem(path);
  ASSERT_FALSE(s.has_value());
  EXPECT_TRUE(Contains(s.error().message, path + ":2:11:"));
}

TEST(LoadSystem, UnknownNamesAndMissingFiles) {
  auto s = LoadSystem("h999_sxm");
  ASSERT_FALSE(s.has_value());
  EXPECT_TRUE(Contains(s.error().message, "--system"));
  EXPECT_TRUE(Contains(s.error().message, "h999_sxm"));
  EXPECT_TRUE(Contains(s.error().message, "h100_sxm"));  // lists the catalog

  s = LoadSystem("/nonexistent/sys.json");
  ASSERT_FALSE(s.has_value());
  EXPECT_TRUE(Contains(s.error().message, "/nonexistent/sys.json"));

  s = LoadSystem("missing.json");
  ASSERT_FALSE(s.has_value());
  EXPECT_TRUE(Contains(s.error().message, "missing.json"));

  EXPECT_FALSE(LoadSystem("").has_value());
}

}  // namespace
}  // namespace disagg::hardware
