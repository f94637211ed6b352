// Tasks compiled into the module. Every node has them; a page runs them in a
// Web Worker (through the bindings), and native tests run them directly.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pc {

struct TaskOutcome {
  bool ok = false;
  std::string bytes;  // task data when ok, else an error message
};

// mandelbrot {x0, y0, dx, dy, width, height, maxIter}: the escape count of
// each pixel, row-major, as a Uint32Array. Pixel (i, j) has c = (x0 + i*dx,
// y0 + j*dy); z starts at 0 and z = z*z + c is iterated until |z|^2 > 4 or
// the count reaches maxIter.
// countPrimes {from, to}: how many primes p satisfy from <= p < to.
const std::vector<std::string>& builtinTaskNames();
bool isBuiltinTask(std::string_view name);

// Why a built-in task would refuse this input (task data), or "" if it takes
// it: the same checks the task makes, without running it, so that a job of
// bad inputs fails when it is submitted.
std::string checkBuiltinInput(std::string_view name, std::string_view input);

// Runs a built-in task on task data; a bad input is an error outcome.
TaskOutcome runBuiltinTask(std::string_view name, std::string_view input);

}  // namespace pc
