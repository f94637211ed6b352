#include "compute/builtin_tasks.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "compute/task_data.h"

namespace pc {

namespace {

using nlohmann::json;

constexpr uint64_t kMaxPixels = 4'000'000;         // 16 MB of counts
constexpr uint64_t kMaxPrimeRange = uint64_t{1} << 28;
constexpr uint64_t kMaxPrimeLimit = uint64_t{1} << 40;

TaskOutcome error(std::string why) { return {false, std::move(why)}; }

// Reads input[name] as a finite number; "" when it is, else the error.
std::string number(const json& input, const char* name, double* out) {
  auto it = input.find(name);
  if (it == input.end() || !it->is_number()) return std::string("input.") + name + " must be a number";
  *out = it->get<double>();
  if (!std::isfinite(*out)) return std::string("input.") + name + " must be finite";
  return {};
}

std::string integer(const json& input, const char* name, uint64_t lo, uint64_t hi, uint64_t* out) {
  double v;
  std::string e = number(input, name, &v);
  if (!e.empty()) return e;
  if (v != std::floor(v) || v < static_cast<double>(lo) || v > static_cast<double>(hi))
    return std::string("input.") + name + " must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi);
  *out = static_cast<uint64_t>(v);
  return {};
}

struct MandelbrotInput {
  double x0, y0, dx, dy;
  uint64_t width, height, maxIter;
};

// The parameters, or "" and the reason they are not.
std::string readMandelbrot(const json& input, MandelbrotInput* m) {
  for (std::string e : {number(input, "x0", &m->x0), number(input, "y0", &m->y0), number(input, "dx", &m->dx),
                        number(input, "dy", &m->dy), integer(input, "width", 1, 1 << 16, &m->width),
                        integer(input, "height", 1, 1 << 16, &m->height),
                        integer(input, "maxIter", 1, UINT32_MAX, &m->maxIter)})
    if (!e.empty()) return "mandelbrot: " + e;
  if (m->width * m->height > kMaxPixels)
    return "mandelbrot: width * height must be at most " + std::to_string(kMaxPixels);
  return {};
}

TaskOutcome mandelbrot(const json& input) {
  MandelbrotInput m;
  if (std::string why = readMandelbrot(input, &m); !why.empty()) return error(why);
  const auto [x0, y0, dx, dy, width, height, maxIter] = m;
  std::vector<uint32_t> counts(width * height);
  for (uint64_t j = 0; j < height; ++j) {
    double ci = y0 + static_cast<double>(j) * dy;
    for (uint64_t i = 0; i < width; ++i) {
      double cr = x0 + static_cast<double>(i) * dx;
      double zr = 0, zi = 0;
      uint64_t n = 0;
      while (n < maxIter) {
        double nr = zr * zr - zi * zi + cr;
        zi = 2 * zr * zi + ci;
        zr = nr;
        ++n;
        if (zr * zr + zi * zi > 4) break;
      }
      counts[j * width + i] = static_cast<uint32_t>(n);
    }
  }
  return {true, encodeTaskData(uint32Array(counts))};
}

std::string readCountPrimes(const json& input, uint64_t* from, uint64_t* to) {
  for (std::string e : {integer(input, "from", 0, kMaxPrimeLimit, from), integer(input, "to", 0, kMaxPrimeLimit, to)})
    if (!e.empty()) return "countPrimes: " + e;
  if (*to < *from) return "countPrimes: input.to must not be below input.from";
  if (*to - *from > kMaxPrimeRange) return "countPrimes: to - from must be at most " + std::to_string(kMaxPrimeRange);
  return {};
}

TaskOutcome countPrimes(const json& input) {
  uint64_t from, to;
  if (std::string why = readCountPrimes(input, &from, &to); !why.empty()) return error(why);
  // A segmented sieve: the primes up to sqrt(to) strike out their multiples.
  uint64_t root = static_cast<uint64_t>(std::sqrt(static_cast<double>(to))) + 1;
  std::vector<bool> small(root + 1, true);
  std::vector<uint64_t> basePrimes;
  for (uint64_t p = 2; p <= root; ++p) {
    if (!small[p]) continue;
    basePrimes.push_back(p);
    for (uint64_t m = p * p; m <= root; m += p) small[m] = false;
  }
  std::vector<bool> prime(to - from, true);
  for (uint64_t p : basePrimes) {
    uint64_t start = std::max(p * p, (from + p - 1) / p * p);
    for (uint64_t m = start; m < to; m += p) prime[m - from] = false;
  }
  uint64_t count = 0;
  for (uint64_t n = from; n < to; ++n)
    if (n >= 2 && prime[n - from]) ++count;
  return {true, encodeTaskData(json(count))};
}

}  // namespace

const std::vector<std::string>& builtinTaskNames() {
  static const std::vector<std::string> names{"countPrimes", "mandelbrot"};
  return names;
}

bool isBuiltinTask(std::string_view name) {
  const auto& names = builtinTaskNames();
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string checkBuiltinInput(std::string_view name, std::string_view inputBytes) {
  std::optional<json> input = parseTaskData(inputBytes);
  if (!input) return std::string(name) + ": the input is not well-formed task data";
  if (!input->is_object()) return std::string(name) + ": the input must be an object";
  if (name == "mandelbrot") {
    MandelbrotInput m;
    return readMandelbrot(*input, &m);
  }
  if (name == "countPrimes") {
    uint64_t from, to;
    return readCountPrimes(*input, &from, &to);
  }
  return "no built-in task is named '" + std::string(name) + "'";
}

TaskOutcome runBuiltinTask(std::string_view name, std::string_view inputBytes) {
  std::optional<json> input = parseTaskData(inputBytes);
  if (!input) return error(std::string(name) + ": the input is not well-formed task data");
  if (!input->is_object()) return error(std::string(name) + ": the input must be an object");
  if (name == "mandelbrot") return mandelbrot(*input);
  if (name == "countPrimes") return countPrimes(*input);
  return error("no built-in task is named '" + std::string(name) + "'");
}

}  // namespace pc
