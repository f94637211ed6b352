// The built-in tasks: mandelbrot against a reference written here from its
// specification, countPrimes against known counts and trial division, and
// errors for bad inputs that name the field at fault.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "compute/builtin_tasks.h"
#include "compute/task_data.h"

using namespace pc;
using nlohmann::json;

namespace {

struct View {
  double x0, y0, dx, dy;
  uint32_t width, height, maxIter;
};

json mandelbrotInput(const View& v) {
  return {{"x0", v.x0}, {"y0", v.y0}, {"dx", v.dx}, {"dy", v.dy},
          {"width", v.width}, {"height", v.height}, {"maxIter", v.maxIter}};
}

// From the specification: pixel (i, j) has c = (x0 + i*dx, y0 + j*dy); z
// starts at 0; z = z^2 + c is iterated, counting, until |z|^2 > 4 or the
// count reaches maxIter.
std::vector<uint32_t> referenceMandelbrot(const View& v) {
  std::vector<uint32_t> out;
  for (uint32_t j = 0; j < v.height; ++j) {
    for (uint32_t i = 0; i < v.width; ++i) {
      const double re = v.x0 + i * v.dx, im = v.y0 + j * v.dy;
      double a = 0, b = 0;  // z = a + bi
      uint32_t count = 0;
      for (;;) {
        if (count == v.maxIter) break;
        const double a2 = a * a - b * b + re;
        const double b2 = 2 * a * b + im;
        a = a2;
        b = b2;
        ++count;
        if (a * a + b * b > 4) break;
      }
      out.push_back(count);
    }
  }
  return out;
}

// The counts in a mandelbrot result: a Uint32Array, little-endian.
std::vector<uint32_t> counts(const TaskOutcome& outcome) {
  EXPECT_TRUE(outcome.ok) << outcome.bytes;
  if (!outcome.ok) return {};
  EXPECT_EQ(checkTaskData(outcome.bytes), "");
  std::optional<json> v = parseTaskData(outcome.bytes);
  if (!v || !v->is_binary()) {
    ADD_FAILURE() << "not a binary";
    return {};
  }
  const auto& bin = v->get_binary();
  EXPECT_TRUE(bin.has_subtype() && bin.subtype() == kTagUint32Array) << "a Uint32Array (tag 70)";
  EXPECT_EQ(bin.size() % 4, 0u);
  std::vector<uint32_t> out(bin.size() / 4);
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = uint32_t{bin[4 * i]} | uint32_t{bin[4 * i + 1]} << 8 | uint32_t{bin[4 * i + 2]} << 16 |
             uint32_t{bin[4 * i + 3]} << 24;
  return out;
}

TaskOutcome run(const std::string& task, const json& input) { return runBuiltinTask(task, encodeTaskData(input)); }

uint64_t primeCount(const TaskOutcome& outcome) {
  EXPECT_TRUE(outcome.ok) << outcome.bytes;
  std::optional<json> v = outcome.ok ? parseTaskData(outcome.bytes) : std::nullopt;
  if (!v || !v->is_number_unsigned()) {
    ADD_FAILURE() << "not an unsigned integer";
    return UINT64_MAX;
  }
  return v->get<uint64_t>();
}

uint64_t countPrimes(uint64_t from, uint64_t to) { return primeCount(run("countPrimes", {{"from", from}, {"to", to}})); }

bool isPrimeByTrialDivision(uint64_t n) {
  if (n < 2) return false;
  for (uint64_t d = 2; d * d <= n; ++d)
    if (n % d == 0) return false;
  return true;
}

void expectError(const std::string& task, const json& input, const std::string& mentions) {
  TaskOutcome outcome = run(task, input);
  EXPECT_FALSE(outcome.ok) << input.dump();
  EXPECT_NE(outcome.bytes.find(mentions), std::string::npos)
      << input.dump() << ": '" << outcome.bytes << "' should mention '" << mentions << "'";
}

}  // namespace

TEST(BuiltinTasks, Names) {
  EXPECT_TRUE(isBuiltinTask("mandelbrot"));
  EXPECT_TRUE(isBuiltinTask("countPrimes"));
  EXPECT_FALSE(isBuiltinTask("mandelbrotX"));
  EXPECT_FALSE(isBuiltinTask(""));
  EXPECT_EQ(builtinTaskNames(), std::vector<std::string>({"countPrimes", "mandelbrot"}));
}

TEST(BuiltinTasks, MandelbrotMatchesTheReference) {
  const std::vector<View> views = {
      {-2.0, -1.25, 2.5 / 64, 2.5 / 48, 64, 48, 100},          // the whole set
      {-0.75, 0.1, 0.002, 0.0015, 37, 23, 1000},               // seahorse valley, odd sizes
      {-1.5, 0.0, 0.001, 0.0, 20, 1, 5000},                    // one row, on the real axis
      {0.25, 0.0, 1e-9, 1e-9, 8, 8, 2000},                     // at the cusp
      {-2.5, -2.0, 0.5, 0.5, 10, 9, 1},                        // maxIter 1: every pixel 1
      {-2.0, -2.0, 4.0 / 7, 4.0 / 7, 8, 8, 50},
  };
  for (const View& v : views) {
    SCOPED_TRACE(mandelbrotInput(v).dump());
    std::vector<uint32_t> got = counts(run("mandelbrot", mandelbrotInput(v)));
    std::vector<uint32_t> want = referenceMandelbrot(v);
    ASSERT_EQ(got.size(), size_t{v.width} * v.height);
    EXPECT_EQ(got, want);
  }
  // maxIter 1: z1 = c, and the count stops at 1 whatever c is.
  std::vector<uint32_t> ones = counts(run("mandelbrot", mandelbrotInput({-2.5, -2.0, 0.5, 0.5, 10, 9, 1})));
  EXPECT_EQ(ones, std::vector<uint32_t>(90, 1));
}

TEST(BuiltinTasks, MandelbrotKnownPixels) {
  auto pixel = [](double re, double im, uint32_t maxIter) {
    std::vector<uint32_t> c = counts(run("mandelbrot", mandelbrotInput({re, im, 0.1, 0.1, 1, 1, maxIter})));
    return c.size() == 1 ? c[0] : UINT32_MAX;
  };
  EXPECT_EQ(pixel(0, 0, 500), 500u) << "c = 0 never escapes";
  EXPECT_EQ(pixel(-1, 0, 77), 77u) << "c = -1 cycles 0, -1, 0";
  EXPECT_EQ(pixel(-2, 0, 300), 300u) << "c = -2 lands on 2 and stays: |z|^2 = 4 is not > 4";
  EXPECT_EQ(pixel(0, 1, 300), 300u) << "c = i is preperiodic";
  // c = 2: z1 = 2, |z1|^2 = 4 is not > 4; z2 = 6 escapes.
  EXPECT_EQ(pixel(2, 0, 100), 2u);
  // c = 3: z1 = 3 escapes at once.
  EXPECT_EQ(pixel(3, 0, 100), 1u);
  // c = 1: z = 1, 2, 5: escapes at the third.
  EXPECT_EQ(pixel(1, 0, 100), 3u);
  // c = 0.5: 0.5, 0.75, 1.0625, 1.62890625, 3.153..., escapes at the fifth.
  EXPECT_EQ(pixel(0.5, 0, 100), 5u);
  // The pixel grid: in a 3x2 image pixel (2, 1) has c = x0 + 2dx + (y0 + dy)i = 2.
  std::vector<uint32_t> grid = counts(run("mandelbrot", mandelbrotInput({0, -1, 1, 1, 3, 2, 100})));
  // Row 0: c = -i (preperiodic: stays), 1-i (1-i, 1-i; |z1|^2=2; z2 = 1-3i escapes) , 2-i (escapes at 1).
  // Row 1: c = 0, 1, 2.
  EXPECT_EQ(grid, std::vector<uint32_t>({100, 2, 1, 100, 3, 2}));
}

TEST(BuiltinTasks, MandelbrotRejectsBadInput) {
  json good = mandelbrotInput({-2, -1, 0.01, 0.01, 10, 10, 50});
  ASSERT_TRUE(run("mandelbrot", good).ok);
  for (const char* field : {"x0", "y0", "dx", "dy", "width", "height", "maxIter"}) {
    json missing = good;
    missing.erase(field);
    expectError("mandelbrot", missing, std::string("input.") + field + " must be a number");
    json wrongType = good;
    wrongType[field] = "1";
    expectError("mandelbrot", wrongType, std::string("input.") + field + " must be a number");
    json null = good;
    null[field] = nullptr;
    expectError("mandelbrot", null, std::string("input.") + field);
  }
  json nan = good;
  nan["x0"] = NAN;
  expectError("mandelbrot", nan, "input.x0 must be finite");
  json inf = good;
  inf["dy"] = -INFINITY;
  expectError("mandelbrot", inf, "input.dy must be finite");
  json fractional = good;
  fractional["width"] = 2.5;
  expectError("mandelbrot", fractional, "input.width must be an integer");
  json zero = good;
  zero["height"] = 0;
  expectError("mandelbrot", zero, "input.height must be an integer in 1..");
  json negative = good;
  negative["maxIter"] = -3;
  expectError("mandelbrot", negative, "input.maxIter must be an integer");
  json tooWide = good;
  tooWide["width"] = 70000;
  expectError("mandelbrot", tooWide, "input.width");
  json tooMany = good;
  tooMany["width"] = 4000;
  tooMany["height"] = 4000;
  expectError("mandelbrot", tooMany, "width * height must be at most 4000000");
  json justEnough = good;
  justEnough["width"] = 2000;
  justEnough["height"] = 2000;
  justEnough["maxIter"] = 1;
  TaskOutcome big = run("mandelbrot", justEnough);
  EXPECT_TRUE(big.ok) << big.bytes;
  EXPECT_EQ(counts(big).size(), 4'000'000u);

  expectError("mandelbrot", json::array({1, 2}), "must be an object");
  expectError("mandelbrot", 5, "must be an object");
  TaskOutcome malformed = runBuiltinTask("mandelbrot", std::string("\xa1\x61", 2));
  EXPECT_FALSE(malformed.ok);
  EXPECT_NE(malformed.bytes.find("not well-formed"), std::string::npos) << malformed.bytes;
  TaskOutcome unknown = runBuiltinTask("nope", encodeTaskData(json::object()));
  EXPECT_FALSE(unknown.ok);
  EXPECT_NE(unknown.bytes.find("'nope'"), std::string::npos) << unknown.bytes;
}

TEST(BuiltinTasks, CountPrimesKnownCounts) {
  EXPECT_EQ(countPrimes(0, 100), 25u);
  EXPECT_EQ(countPrimes(0, 10), 4u);
  EXPECT_EQ(countPrimes(10, 20), 4u);
  EXPECT_EQ(countPrimes(0, 1'000'000), 78498u);
  EXPECT_EQ(countPrimes(0, 0), 0u);
  EXPECT_EQ(countPrimes(0, 2), 0u);
  EXPECT_EQ(countPrimes(2, 3), 1u) << "from is included";
  EXPECT_EQ(countPrimes(0, 3), 1u) << "to is excluded";
  EXPECT_EQ(countPrimes(7, 7), 0u);
  EXPECT_EQ(countPrimes(7, 8), 1u);
  EXPECT_EQ(countPrimes(1, 2), 0u);
  EXPECT_EQ(countPrimes(24, 29), 0u);
  EXPECT_EQ(countPrimes(100, 1000), 168u - 25u);
  // Splitting a range splits the count.
  EXPECT_EQ(countPrimes(0, 500'000) + countPrimes(500'000, 1'000'000), 78498u);
}

TEST(BuiltinTasks, CountPrimesMatchesTrialDivision) {
  for (auto [from, to] : std::vector<std::pair<uint64_t, uint64_t>>{
           {0, 2000}, {1, 50}, {961, 1100}, {999'000, 1'001'000}, {1'000'000'000, 1'000'002'000},
           {(uint64_t{1} << 40) - 1000, uint64_t{1} << 40}}) {
    uint64_t want = 0;
    for (uint64_t n = from; n < to; ++n) want += isPrimeByTrialDivision(n);
    EXPECT_EQ(countPrimes(from, to), want) << "[" << from << ", " << to << ")";
  }
}

TEST(BuiltinTasks, CountPrimesRejectsBadInput) {
  expectError("countPrimes", {{"to", 10}}, "input.from must be a number");
  expectError("countPrimes", {{"from", 10}}, "input.to must be a number");
  expectError("countPrimes", {{"from", "0"}, {"to", 10}}, "input.from must be a number");
  expectError("countPrimes", {{"from", 0}, {"to", 10.5}}, "input.to must be an integer");
  expectError("countPrimes", {{"from", -1}, {"to", 10}}, "input.from must be an integer");
  expectError("countPrimes", {{"from", 20}, {"to", 10}}, "input.to must not be below input.from");
  expectError("countPrimes", {{"from", 0}, {"to", uint64_t{1} << 29}}, "to - from must be at most");
  expectError("countPrimes", {{"from", 0}, {"to", (uint64_t{1} << 40) + 1}}, "input.to must be an integer in");
  expectError("countPrimes", json::array(), "must be an object");
}
