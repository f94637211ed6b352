// Distributed compute end to end: real kernels on the simulated network, each
// with a simulated host worker (NodeSetup) that runs built-in tasks. Jobs are
// split over the mesh, survive peers that crash, hang or lie, and refuse bad
// input and forged results.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "compute/builtin_tasks.h"
#include "support/peer_view.h"
#include "compute/task_data.h"
#include "support/simulated_network.h"
#include "wire/frame_codec.h"

using namespace pc;
using namespace pcsim;
using nlohmann::json;

namespace {

// An image of cols x rows tiles of size x size pixels.
std::vector<std::string> mandelbrotTiles(int cols, int rows, int size = 16, int maxIter = 200) {
  const double x0 = -2.2, y0 = -1.3;
  const double dx = 3.0 / (cols * size), dy = 2.6 / (rows * size);
  std::vector<std::string> out;
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c)
      out.push_back(encodeTaskData({{"x0", x0 + c * size * dx},
                                    {"y0", y0 + r * size * dy},
                                    {"dx", dx},
                                    {"dy", dy},
                                    {"width", size},
                                    {"height", size},
                                    {"maxIter", maxIter}}));
  return out;
}

// What each unit should give, run here directly.
std::vector<std::string> expected(const std::string& task, const std::vector<std::string>& inputs) {
  std::vector<std::string> out;
  for (const auto& in : inputs) {
    TaskOutcome o = runBuiltinTask(task, in);
    EXPECT_TRUE(o.ok) << o.bytes;
    out.push_back(o.bytes);
  }
  return out;
}

JobOptions options(uint32_t redundancy = 1, Millis timeoutMs = 30'000, uint32_t maxAttempts = 3) {
  JobOptions o;
  o.redundancy = redundancy;
  o.timeoutMs = timeoutMs;
  o.maxAttempts = maxAttempts;
  return o;
}

Result submit(SimulatedNetwork& net, const std::string& node, const std::string& task, std::vector<std::string> inputs,
              const JobOptions& o, uint64_t* job) {
  return net.input(node, [&](NodeKernel& k, Millis now) { return k.submitJob(task, inputs, o, now, job); });
}

uint64_t mustSubmit(SimulatedNetwork& net, const std::string& node, const std::string& task,
                    std::vector<std::string> inputs, const JobOptions& o = options()) {
  uint64_t job = 0;
  Result r = submit(net, node, task, std::move(inputs), o, &job);
  EXPECT_TRUE(r.ok) << r.error;
  return job;
}

std::vector<JobProgress> progressOf(SimulatedNetwork& net, const std::string& node, uint64_t job) {
  std::vector<JobProgress> out;
  for (auto& [at, p] : net.outputs<JobProgress>(node))
    if (p.job == job) out.push_back(p);
  return out;
}

std::optional<JobFinished> finishedOf(SimulatedNetwork& net, const std::string& node, uint64_t job) {
  for (auto& [at, f] : net.outputs<JobFinished>(node))
    if (f.job == job) return f;
  return std::nullopt;
}

bool runUntilFinished(SimulatedNetwork& net, const std::string& node, uint64_t job, Millis within) {
  return net.runUntil([&] { return finishedOf(net, node, job).has_value(); }, net.now() + within);
}

// Each unit accepted exactly once, with the right output.
void expectOutputs(const std::vector<JobProgress>& progress, const std::vector<std::string>& want) {
  std::vector<int> seen(want.size());
  for (size_t i = 0; i < progress.size(); ++i) {
    const JobProgress& p = progress[i];
    ASSERT_LT(p.unit, want.size());
    ++seen[p.unit];
    EXPECT_EQ(p.output, want[p.unit]) << "unit " << p.unit;
    EXPECT_EQ(p.total, want.size());
    EXPECT_EQ(p.done, i + 1);
  }
  for (size_t u = 0; u < want.size(); ++u) EXPECT_EQ(seen[u], 1) << "unit " << u;
}

std::set<std::string> peersOf(const std::vector<JobProgress>& progress) {
  std::set<std::string> out;
  for (const auto& p : progress) out.insert(p.peers.begin(), p.peers.end());
  return out;
}

json statsOf(const JobFinished& f) { return json::parse(f.statsJson); }

void addAndStart(SimulatedNetwork& net, const std::string& id, NodeConfig config = {}, NodeSetup setup = {}) {
  net.addNode(id, config, std::move(setup));
  net.start(id);
}

// WorkAssign frames a node sent, as they are sent.
struct Assigned {
  std::string to;
  wire::WorkAssign frame;
};
void recordAssigns(SimulatedNetwork& net, const std::string& from, std::vector<Assigned>* out) {
  net.onFrameSent = [from, out](const std::string& sender, const std::string& to, const std::vector<uint8_t>& bytes) {
    if (sender != from) return;
    wire::Decoded d = wire::decode(bytes);
    if (d.frame)
      if (auto* w = std::get_if<wire::WorkAssign>(&*d.frame)) out->push_back({to, *w});
  };
}

void inject(SimulatedNetwork& net, const std::string& at, const std::string& from, const wire::Frame& frame) {
  std::vector<uint8_t> bytes = wire::encode(frame);
  net.input(at, [&](NodeKernel& k, Millis now) { k.handleData(from, bytes.data(), bytes.size(), now); });
}

}  // namespace

TEST(Compute, MandelbrotJobSpreadsOverTheMeshAndAssemblesCorrectly) {
  SimulatedNetwork net;
  ASSERT_TRUE(net.startMesh({"a", "b", "c"}));
  auto tiles = mandelbrotTiles(4, 4);
  auto want = expected("mandelbrot", tiles);
  const Millis submittedAt = net.now();
  uint64_t job = mustSubmit(net, "a", "mandelbrot", tiles);
  ASSERT_TRUE(runUntilFinished(net, "a", job, 10'000));

  auto progress = progressOf(net, "a", job);
  ASSERT_EQ(progress.size(), 16u);
  expectOutputs(progress, want);
  EXPECT_EQ(peersOf(progress), (std::set<std::string>{"a", "b", "c"})) << "every node ran units";
  for (const auto& p : progress) EXPECT_EQ(p.peers.size(), 1u);
  for (const char* id : {"a", "b", "c"}) EXPECT_FALSE(net.outputs<RunTask>(id).empty()) << id;

  auto finished = finishedOf(net, "a", job);
  EXPECT_TRUE(finished->ok) << finished->error;
  json stats = statsOf(*finished);
  EXPECT_EQ(stats["done"], 16);
  EXPECT_EQ(stats["total"], 16);
  EXPECT_EQ(stats["retries"], 0);
  EXPECT_EQ(stats["rejectedResults"], 0);
  int sum = 0;
  for (const auto& [peer, n] : stats["unitsByPeer"].items()) sum += n.get<int>();
  EXPECT_EQ(sum, 16);
  // Three workers of 100 ms a unit: well under the 1.6 s one alone would need.
  EXPECT_LT(net.outputs<JobFinished>("a").back().first - submittedAt, 1200);
  // Only the submitter hears of the job's progress.
  EXPECT_TRUE(net.outputs<JobProgress>("b").empty());
  EXPECT_TRUE(net.outputs<JobFinished>("c").empty());
  EXPECT_EQ(net.kernel("a").scheduler().activeJobs(), 0u);
  for (const char* id : {"a", "b", "c"}) EXPECT_EQ(net.kernel(id).counters().rejectedFrames, 0u) << id;
}

TEST(Compute, APeerThatCrashesMidJobIsReplaced) {
  for (CrashMode mode : {CrashMode::ClosesChannels, CrashMode::Silent}) {
    SCOPED_TRACE(mode == CrashMode::Silent ? "silent" : "closes channels");
    SimulatedNetwork net;
    ASSERT_TRUE(net.startMesh({"a", "b", "c"}));
    auto tiles = mandelbrotTiles(6, 4);
    auto want = expected("mandelbrot", tiles);
    uint64_t job = mustSubmit(net, "a", "mandelbrot", tiles);  // leases of 30 s
    ASSERT_TRUE(net.runUntil(
        [&] { return progressOf(net, "a", job).size() >= 4 && net.kernel("a").scheduler().leasesHeldBy("c") > 0; },
        net.now() + 5000));
    const Millis crashedAt = net.now();
    net.crash("c", mode);
    // Well before any lease times out: c's units are issued again when a
    // notices c is gone (its channel closes, or its pings stop).
    ASSERT_TRUE(runUntilFinished(net, "a", job, 10'000));
    EXPECT_LT(net.now() - crashedAt, 10'000);

    auto finished = finishedOf(net, "a", job);
    EXPECT_TRUE(finished->ok) << finished->error;
    auto progress = progressOf(net, "a", job);
    ASSERT_EQ(progress.size(), tiles.size());
    expectOutputs(progress, want);
    json stats = statsOf(*finished);
    EXPECT_GT(stats["retries"].get<int>(), 0) << stats.dump();
    EXPECT_EQ(net.kernel("a").scheduler().leasesHeldBy("c"), 0u);
    EXPECT_FALSE(net.kernel("a").describeComputePeers().contains("c")) << "c is no longer a worker";
  }
}

TEST(Compute, AHungWorkersLeasesTimeOutAndTheJobCompletesElsewhere) {
  SimulatedNetwork net;
  NodeSetup hung;
  hung.hangTasks = true;
  addAndStart(net, "a");
  addAndStart(net, "b");
  addAndStart(net, "c", {}, hung);
  ASSERT_TRUE(net.runUntil([&] { return net.fullMesh(); }, 5000));
  auto tiles = mandelbrotTiles(4, 3);
  auto want = expected("mandelbrot", tiles);
  uint64_t job = mustSubmit(net, "a", "mandelbrot", tiles, options(1, 500));
  ASSERT_TRUE(runUntilFinished(net, "a", job, 20'000));

  auto finished = finishedOf(net, "a", job);
  EXPECT_TRUE(finished->ok) << finished->error;
  auto progress = progressOf(net, "a", job);
  expectOutputs(progress, want);
  EXPECT_EQ(peersOf(progress).count("c"), 0u);
  json stats = statsOf(*finished);
  EXPECT_GT(stats["retries"].get<int>(), 0);
  EXPECT_FALSE(stats["unitsByPeer"].contains("c"));
  EXPECT_FALSE(net.outputs<RunTask>("c").empty()) << "c was given units";
  // c was told to stop each unit whose lease ran out.
  EXPECT_FALSE(net.outputs<CancelTask>("c").empty());
  EXPECT_GE(net.kernel("a").scheduler().describeWorkers()["c"]["failures"].get<int>(), 1);
  EXPECT_EQ(net.kernel("c").localWorkers().running(), 0u) << "its hung runs were stopped";
  for (const char* id : {"a", "b", "c"}) EXPECT_EQ(net.kernel(id).counters().rejectedFrames, 0u) << id;
}

TEST(Compute, RedundancyCatchesALiar) {
  SimulatedNetwork net;
  // c's host runs the task wrongly (a faulty or malicious peer): every result
  // is well-formed task data, and wrong in its first pixel.
  NodeSetup liar;
  liar.runTask = [](const std::string& task, const std::string& input) {
    TaskOutcome o = runBuiltinTask(task, input);
    std::optional<json> v = parseTaskData(o.bytes);
    if (!o.ok || !v || !v->is_binary() || v->get_binary().empty()) return TaskOutcome{true, encodeTaskData(json("wrong"))};
    v->get_binary()[0] ^= 1;
    return TaskOutcome{true, encodeTaskData(*v)};
  };
  addAndStart(net, "a");
  addAndStart(net, "b");
  addAndStart(net, "c", {}, liar);
  ASSERT_TRUE(net.runUntil([&] { return net.fullMesh(); }, 5000));
  auto tiles = mandelbrotTiles(4, 3);
  auto want = expected("mandelbrot", tiles);
  uint64_t job = mustSubmit(net, "a", "mandelbrot", tiles, options(2));
  ASSERT_TRUE(runUntilFinished(net, "a", job, 20'000));

  auto finished = finishedOf(net, "a", job);
  EXPECT_TRUE(finished->ok) << finished->error;
  auto progress = progressOf(net, "a", job);
  expectOutputs(progress, want);
  for (const auto& p : progress) {
    EXPECT_EQ(p.peers.size(), 2u) << "unit " << p.unit;
    EXPECT_EQ(std::count(p.peers.begin(), p.peers.end(), "c"), 0) << "unit " << p.unit;
  }
  EXPECT_FALSE(net.outputs<RunTask>("c").empty()) << "the liar took part";
  json stats = statsOf(*finished);
  EXPECT_GT(stats["rejectedResults"].get<int>(), 0);
  EXPECT_EQ(stats["distrustedPeers"], json::array({"c"}));
  EXPECT_EQ(stats["unitsByPeer"].value("c", 0), 0);
  EXPECT_EQ(stats["unitsByPeer"].value("a", 0), 12);
  EXPECT_EQ(stats["unitsByPeer"].value("b", 0), 12);
}

TEST(Compute, ALoneNodeRunsItsJobItself) {
  SimulatedNetwork net;
  addAndStart(net, "solo");
  net.runFor(100);
  std::vector<std::string> inputs;
  for (uint64_t from = 0; from < 1'000'000; from += 250'000)
    inputs.push_back(encodeTaskData({{"from", from}, {"to", from + 250'000}}));
  uint64_t job = mustSubmit(net, "solo", "countPrimes", inputs);
  ASSERT_TRUE(runUntilFinished(net, "solo", job, 5000));
  auto finished = finishedOf(net, "solo", job);
  EXPECT_TRUE(finished->ok) << finished->error;
  auto progress = progressOf(net, "solo", job);
  expectOutputs(progress, expected("countPrimes", inputs));
  uint64_t total = 0;
  for (const auto& p : progress) total += parseTaskData(p.output)->get<uint64_t>();
  EXPECT_EQ(total, 78498u);
  EXPECT_EQ(peersOf(progress), std::set<std::string>{"solo"});

  // Before it ever started, too: compute needs no peers.
  SimulatedNetwork quiet;
  quiet.addNode("x");
  uint64_t job2 = mustSubmit(quiet, "x", "countPrimes", {encodeTaskData({{"from", 0}, {"to", 100}})});
  ASSERT_TRUE(runUntilFinished(quiet, "x", job2, 5000));
  EXPECT_TRUE(finishedOf(quiet, "x", job2)->ok);
  ASSERT_EQ(progressOf(quiet, "x", job2).size(), 1u);
  EXPECT_EQ(*parseTaskData(progressOf(quiet, "x", job2)[0].output), 25);
}

TEST(Compute, ANodeWithoutWorkersUsesItsPeers) {
  SimulatedNetwork net;
  NodeConfig none;
  none.computeWorkers = 0;
  addAndStart(net, "a", none);
  addAndStart(net, "b");
  addAndStart(net, "c");
  ASSERT_TRUE(net.runUntil([&] { return net.fullMesh(); }, 5000));
  auto tiles = mandelbrotTiles(3, 3);
  uint64_t job = mustSubmit(net, "a", "mandelbrot", tiles);
  ASSERT_TRUE(runUntilFinished(net, "a", job, 10'000));
  EXPECT_TRUE(finishedOf(net, "a", job)->ok);
  auto progress = progressOf(net, "a", job);
  expectOutputs(progress, expected("mandelbrot", tiles));
  EXPECT_EQ(peersOf(progress), (std::set<std::string>{"b", "c"}));
  EXPECT_TRUE(net.outputs<RunTask>("a").empty());
  EXPECT_EQ(net.kernel("a").describeStatus()["compute"]["workers"], 0);
  // Its peers know it runs nothing, and never ask it to.
  EXPECT_EQ(net.kernel("b").scheduler().describeWorkers()["a"]["workers"], 0);
  uint64_t fromB = mustSubmit(net, "b", "mandelbrot", tiles);
  ASSERT_TRUE(runUntilFinished(net, "b", fromB, 10'000));
  EXPECT_EQ(peersOf(progressOf(net, "b", fromB)), (std::set<std::string>{"b", "c"}));
  EXPECT_EQ(net.kernel("a").counters().rejectedFrames, 0u) << net.kernel("a").counters().lastRejection;
}

TEST(Compute, ALateJoinerGetsUnits) {
  SimulatedNetwork net;
  ASSERT_TRUE(net.startMesh({"a", "b"}));
  auto tiles = mandelbrotTiles(8, 6);  // 48 units, about 2.4 s on two workers
  auto want = expected("mandelbrot", tiles);
  uint64_t job = mustSubmit(net, "a", "mandelbrot", tiles);
  net.runFor(300);
  ASSERT_LT(progressOf(net, "a", job).size(), tiles.size() / 2);
  const Millis joinedAt = net.now();
  addAndStart(net, "c");
  ASSERT_TRUE(runUntilFinished(net, "a", job, 10'000));

  EXPECT_TRUE(finishedOf(net, "a", job)->ok);
  auto progress = progressOf(net, "a", job);
  expectOutputs(progress, want);
  EXPECT_TRUE(peersOf(progress).count("c")) << "c joined mid-job and took units";
  auto runs = net.outputs<RunTask>("c");
  ASSERT_FALSE(runs.empty());
  EXPECT_LT(runs.front().first - joinedAt, 1000) << "soon after its handshake";
  EXPECT_GE(statsOf(*finishedOf(net, "a", job))["unitsByPeer"].value("c", 0), 3);
}

TEST(Compute, BadInputIsRefusedWithAClearError) {
  SimulatedNetwork net;
  NodeConfig small;
  small.maxTaskDataBytes = 1024;
  addAndStart(net, "a", small);
  addAndStart(net, "b");
  ASSERT_TRUE(net.runUntil([&] { return net.fullMesh(); }, 5000));
  const std::string good = mandelbrotTiles(1, 1, 8)[0];  // its result fits a's 1024 bytes
  uint64_t job = 0;
  auto refused = [&](const std::string& task, std::vector<std::string> inputs, const JobOptions& o,
                     const std::string& mentions) {
    Result r = submit(net, "a", task, std::move(inputs), o, &job);
    EXPECT_FALSE(r.ok) << task << ": should be refused";
    EXPECT_NE(r.error.find(mentions), std::string::npos) << "'" << r.error << "' should mention '" << mentions << "'";
  };
  refused("noSuchTask", {good}, options(), "'noSuchTask'");
  refused("has space", {good}, options(), "task name");
  refused("", {good}, options(), "task name");
  refused("mandelbrot", {good, std::string("\xa1\x61", 2)}, options(), "inputs[1]");
  refused("mandelbrot", {good, good, std::string("\x01\x02", 2)}, options(), "inputs[2] is not task data: bytes after");
  std::string big = encodeTaskData(json::binary(std::vector<uint8_t>(2000, 7)));
  refused("mandelbrot", {big}, options(), "inputs[0]");
  refused("mandelbrot", {big}, options(), "maxTaskDataBytes");
  refused("mandelbrot", {good}, options(0), "redundancy");
  refused("mandelbrot", {good}, options(17), "redundancy");
  refused("mandelbrot", {good}, options(1, 30'000, 0), "maxAttempts");
  refused("mandelbrot", {good}, options(1, 0), "timeoutMs");
  // A built-in task's inputs are checked at submission, field by field, as
  // the task would check them: the job fails now, not after its attempts.
  refused("mandelbrot", {good, encodeTaskData({{"x0", "left"}})}, options(), "inputs[1]: mandelbrot: input.x0 must be a number");
  json noWidth = json::parse(R"({"x0": 0, "y0": 0, "dx": 0.1, "dy": 0.1, "height": 4, "maxIter": 10})");
  refused("mandelbrot", {encodeTaskData(noWidth)}, options(), "inputs[0]: mandelbrot: input.width must be a number");
  refused("countPrimes", {encodeTaskData({{"from", 10}, {"to", 5}})}, options(),
          "inputs[0]: countPrimes: input.to must not be below input.from");
  refused("countPrimes", {encodeTaskData({{"from", 0}, {"to", 1.5}})}, options(), "input.to must be an integer");
  refused("countPrimes", {encodeTaskData(json::array({1, 2}))}, options(), "inputs[0]: countPrimes: the input must be an object");
  EXPECT_EQ(net.kernel("a").scheduler().activeJobs(), 0u);

  Result r = net.input("a", [&](NodeKernel& k, Millis now) { return k.cancelJob(4242, now); });
  EXPECT_FALSE(r.ok);
  r = net.input("a", [&](NodeKernel& k, Millis now) { return k.registerTask("mandelbrot", now); });
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("built-in"), std::string::npos) << r.error;
  r = net.input("a", [&](NodeKernel& k, Millis now) { return k.registerTask("bad name", now); });
  EXPECT_FALSE(r.ok);

  net.runFor(1000);
  EXPECT_TRUE(net.outputs<RunTask>("a").empty());
  EXPECT_TRUE(net.outputs<RunTask>("b").empty());
  EXPECT_TRUE(net.outputs<JobFinished>("a").empty());
  // The refusals do not spoil a later good job.
  uint64_t ok = mustSubmit(net, "a", "mandelbrot", {good});
  ASSERT_TRUE(runUntilFinished(net, "a", ok, 5000));
  EXPECT_TRUE(finishedOf(net, "a", ok)->ok);
}

TEST(Compute, AResultForALeaseThePeerWasNotGivenIsRejected) {
  SimulatedNetwork net;
  ASSERT_TRUE(net.startMesh({"a", "b", "c"}));
  std::vector<Assigned> assigns;
  recordAssigns(net, "a", &assigns);
  auto tiles = mandelbrotTiles(3, 3);
  auto want = expected("mandelbrot", tiles);
  uint64_t job = mustSubmit(net, "a", "mandelbrot", tiles);
  ASSERT_TRUE(net.runUntil(
      [&] { return std::any_of(assigns.begin(), assigns.end(), [](const Assigned& x) { return x.to == "c"; }); },
      net.now() + 1000));
  const Assigned toC = *std::find_if(assigns.begin(), assigns.end(), [](const Assigned& x) { return x.to == "c"; });
  // b answers for c's lease, with a well-formed but wrong result; and for a
  // lease that was never issued.
  const std::string wrong = encodeTaskData(uint32Array(std::vector<uint32_t>(256, 1)));
  const size_t cHeld = net.kernel("a").scheduler().leasesHeldBy("c");
  ASSERT_GT(cHeld, 0u);
  inject(net, "a", "b", wire::WorkResult{toC.frame.lease, true, wrong});
  inject(net, "a", "b", wire::WorkResult{999'999, true, wrong});
  inject(net, "a", "b", wire::WorkResult{999'998, false, "made up"});
  EXPECT_EQ(net.kernel("a").counters().rejectedResults, 3u);
  EXPECT_EQ(net.kernel("a").describeStatus()["compute"]["rejectedResults"], 3);
  EXPECT_GE(net.kernel("a").counters().rejectedFrames, 3u);
  EXPECT_EQ(net.kernel("a").scheduler().leasesHeldBy("c"), cHeld) << "c keeps its lease";
  EXPECT_TRUE(pcsim::peerOf(net.kernel("a"), "b")) << "b is still connected";

  ASSERT_TRUE(runUntilFinished(net, "a", job, 10'000));
  auto finished = finishedOf(net, "a", job);
  EXPECT_TRUE(finished->ok) << finished->error;
  auto progress = progressOf(net, "a", job);
  expectOutputs(progress, want);
  json stats = statsOf(*finished);
  EXPECT_EQ(stats["rejectedResults"], 0) << "nothing the job counted: the forgeries never reached it";
  EXPECT_EQ(stats["retries"], 0);
  EXPECT_EQ(stats["distrustedPeers"], json::array());
  // c's unit was done by c, with c's (right) answer.
  bool doneByC = false;
  for (const auto& p : progress)
    if (tiles[p.unit] == toC.frame.input) {
      EXPECT_EQ(p.peers, std::vector<std::string>{"c"});
      doneByC = true;
    }
  EXPECT_TRUE(doneByC);
}

TEST(Compute, AMalformedResultIsRejectedAndTheUnitReissued) {
  SimulatedNetwork net;
  ASSERT_TRUE(net.startMesh({"a", "b", "c"}));
  std::vector<Assigned> assigns;
  recordAssigns(net, "a", &assigns);
  auto tiles = mandelbrotTiles(3, 3);
  auto want = expected("mandelbrot", tiles);
  uint64_t job = mustSubmit(net, "a", "mandelbrot", tiles);
  ASSERT_TRUE(net.runUntil(
      [&] { return std::any_of(assigns.begin(), assigns.end(), [](const Assigned& x) { return x.to == "b"; }); },
      net.now() + 1000));
  const Assigned toB = *std::find_if(assigns.begin(), assigns.end(), [](const Assigned& x) { return x.to == "b"; });
  // b "answers" at once with bytes that are not task data.
  inject(net, "a", "b", wire::WorkResult{toB.frame.lease, true, std::string("\xa1\x61", 2)});
  EXPECT_EQ(net.kernel("a").counters().rejectedResults, 1u);
  EXPECT_EQ(net.kernel("a").describeStatus()["compute"]["rejectedResults"], 1);

  ASSERT_TRUE(runUntilFinished(net, "a", job, 10'000));
  auto finished = finishedOf(net, "a", job);
  EXPECT_TRUE(finished->ok) << finished->error;
  auto progress = progressOf(net, "a", job);
  expectOutputs(progress, want);
  json stats = statsOf(*finished);
  EXPECT_EQ(stats["rejectedResults"], 1);
  EXPECT_GE(stats["retries"].get<int>(), 1);
  EXPECT_EQ(stats["distrustedPeers"], json::array({"b"}));
  // The unit went out again, and not to b; b's real answer, coming later, was ignored.
  size_t issued = 0;
  for (const auto& x : assigns) issued += x.frame.input == toB.frame.input;
  for (const auto& [at, run] : net.outputs<RunTask>("a")) issued += run.input == toB.frame.input;
  EXPECT_GE(issued, 2u);
  for (const auto& p : progress) {
    if (tiles[p.unit] == toB.frame.input) {
      EXPECT_NE(p.peers, std::vector<std::string>{"b"});
    }
  }
  EXPECT_EQ(net.kernel("a").counters().rejectedResults, 1u) << "the late real answer is not a fault";
}

TEST(Compute, CancellingAJobStopsItsUnitsEverywhere) {
  SimulatedNetwork net;
  ASSERT_TRUE(net.startMesh({"a", "b", "c"}));
  uint64_t job = mustSubmit(net, "a", "mandelbrot", mandelbrotTiles(6, 4));
  ASSERT_TRUE(net.runUntil([&] { return progressOf(net, "a", job).size() >= 3; }, net.now() + 5000));
  ASSERT_GT(net.kernel("b").localWorkers().running(), 0u);
  ASSERT_GT(net.kernel("c").localWorkers().running(), 0u);
  const Millis cancelledAt = net.now();
  Result r = net.input("a", [&](NodeKernel& k, Millis now) { return k.cancelJob(job, now); });
  ASSERT_TRUE(r.ok) << r.error;
  auto finished = finishedOf(net, "a", job);
  ASSERT_TRUE(finished) << "the job ends at once";
  EXPECT_FALSE(finished->ok);
  EXPECT_EQ(finished->error, "cancelled");
  const size_t doneBefore = progressOf(net, "a", job).size();
  EXPECT_LT(doneBefore, 24u);
  EXPECT_EQ(net.kernel("a").scheduler().activeJobs(), 0u);
  EXPECT_FALSE(net.kernel("a").scheduler().nextTimeout());
  net.runFor(2000);
  EXPECT_EQ(progressOf(net, "a", job).size(), doneBefore) << "nothing more is accepted";
  for (const char* id : {"a", "b", "c"}) {
    SCOPED_TRACE(id);
    EXPECT_EQ(net.kernel(id).localWorkers().queued(), 0u);
    EXPECT_EQ(net.kernel(id).localWorkers().running(), 0u);
    EXPECT_EQ(net.kernel(id).counters().rejectedFrames, 0u) << net.kernel(id).counters().lastRejection;
  }
  for (const char* id : {"b", "c"}) {
    auto cancels = net.outputs<CancelTask>(id);
    ASSERT_FALSE(cancels.empty()) << id << " was told to stop its running unit";
    EXPECT_GE(cancels.back().first, cancelledAt);
    // Nothing started after the cancel reached it.
    for (const auto& [at, run] : net.outputs<RunTask>(id)) EXPECT_LE(at, cancels.back().first) << id;
  }
  r = net.input("a", [&](NodeKernel& k, Millis now) { return k.cancelJob(job, now); });
  EXPECT_FALSE(r.ok) << "already over";
  // The mesh still computes.
  uint64_t next = mustSubmit(net, "a", "mandelbrot", mandelbrotTiles(2, 2));
  ASSERT_TRUE(runUntilFinished(net, "a", next, 5000));
  EXPECT_TRUE(finishedOf(net, "a", next)->ok);
}

TEST(Compute, AWorkerDropsTheUnitsOfAnOwnerThatLeft) {
  SimulatedNetwork net;
  ASSERT_TRUE(net.startMesh({"a", "b"}));
  mustSubmit(net, "a", "mandelbrot", mandelbrotTiles(6, 4));
  ASSERT_TRUE(net.runUntil([&] { return net.kernel("b").localWorkers().queued() > 0; }, net.now() + 2000));
  const Millis crashedAt = net.now();
  net.crash("a", CrashMode::ClosesChannels);
  net.runFor(1000);
  EXPECT_EQ(net.kernel("b").localWorkers().queued(), 0u);
  EXPECT_EQ(net.kernel("b").localWorkers().running(), 0u);
  auto cancels = net.outputs<CancelTask>("b");
  ASSERT_EQ(cancels.size(), 1u) << "its running unit is stopped";
  EXPECT_GT(cancels[0].first, crashedAt);
  auto runs = net.outputs<RunTask>("b");
  EXPECT_LE(runs.back().first, cancels[0].first) << "and its queued one never starts";
}

TEST(Compute, ARegisteredTaskRunsOnlyOnTheNodesThatRegisteredIt) {
  SimulatedNetwork net;
  NodeSetup squares;
  squares.runTask = [](const std::string& task, const std::string& input) -> TaskOutcome {
    if (task != "app:square") return runBuiltinTask(task, input);
    std::optional<json> v = parseTaskData(input);
    if (!v || !v->contains("n")) return {false, "app:square: input.n is missing"};
    uint64_t n = (*v)["n"].get<uint64_t>();
    return {true, encodeTaskData(json(n * n))};
  };
  net.addNode("a");
  net.addNode("b", {}, squares);
  net.addNode("c", {}, squares);
  net.addNode("d");
  Result r = net.input("b", [&](NodeKernel& k, Millis now) { return k.registerTask("app:square", now); });
  ASSERT_TRUE(r.ok) << r.error;
  for (const char* id : {"a", "b", "c", "d"}) net.start(id);
  ASSERT_TRUE(net.runUntil([&] { return net.fullMesh(); }, 5000));
  // c registers once connected: its peers hear of it in a new Capabilities.
  r = net.input("c", [&](NodeKernel& k, Millis now) { return k.registerTask("app:square", now); });
  ASSERT_TRUE(r.ok) << r.error;
  net.runFor(100);
  EXPECT_TRUE(net.kernel("a").scheduler().anyWorkerOffers("app:square"));

  std::vector<std::string> inputs, want;
  for (uint64_t n = 1; n <= 12; ++n) {
    inputs.push_back(encodeTaskData({{"n", n}}));
    want.push_back(encodeTaskData(json(n * n)));
  }
  uint64_t job = mustSubmit(net, "a", "app:square", inputs);
  ASSERT_TRUE(runUntilFinished(net, "a", job, 10'000));
  EXPECT_TRUE(finishedOf(net, "a", job)->ok);
  auto progress = progressOf(net, "a", job);
  expectOutputs(progress, want);
  EXPECT_EQ(peersOf(progress), (std::set<std::string>{"b", "c"}));
  EXPECT_TRUE(net.outputs<RunTask>("a").empty());
  EXPECT_TRUE(net.outputs<RunTask>("d").empty());
  for (const char* id : {"a", "b", "c", "d"}) EXPECT_EQ(net.kernel(id).counters().rejectedFrames, 0u) << id;

  // d, which has not registered it, can submit too; a node none of whose
  // peers has it cannot.
  uint64_t fromD = mustSubmit(net, "d", "app:square", {inputs[2]});
  ASSERT_TRUE(runUntilFinished(net, "d", fromD, 5000));
  ASSERT_EQ(progressOf(net, "d", fromD).size(), 1u);
  EXPECT_EQ(progressOf(net, "d", fromD)[0].output, want[2]);
  SimulatedNetwork other;
  other.addNode("x");
  uint64_t none = 0;
  Result refused = submit(other, "x", "app:square", {inputs[0]}, options(), &none);
  EXPECT_FALSE(refused.ok);
  EXPECT_NE(refused.error.find("'app:square'"), std::string::npos) << refused.error;
}

TEST(Compute, SameSeedSameProgress) {
  auto scenario = [](uint64_t seed) {
    NetworkOptions o;
    o.seed = seed;
    o.signalDelayMin = 1;
    o.signalDelayMax = 40;
    o.dataDelayMin = 1;
    o.dataDelayMax = 60;
    SimulatedNetwork net(o);
    NodeSetup varied;
    varied.taskDuration = [](const std::string&, const std::string& input) {
      unsigned sum = 0;
      for (char ch : input) sum += static_cast<unsigned char>(ch);
      return Millis(50 + sum % 97);
    };
    for (const char* id : {"a", "b", "c", "d"}) addAndStart(net, id, {}, varied);
    EXPECT_TRUE(net.runUntil([&] { return net.fullMesh(); }, 5000));
    uint64_t job = mustSubmit(net, "a", "mandelbrot", mandelbrotTiles(5, 4), options(2));
    EXPECT_TRUE(runUntilFinished(net, "a", job, 20'000));
    std::vector<std::string> trace;
    for (const auto& [at, p] : net.outputs<JobProgress>("a")) {
      std::string line = std::to_string(at) + " " + std::to_string(p.unit);
      for (const auto& peer : p.peers) line += " " + peer;
      trace.push_back(line);
    }
    return trace;
  };
  auto first = scenario(7);
  EXPECT_EQ(first.size(), 20u);
  EXPECT_EQ(scenario(7), first);
  auto other = scenario(8);
  EXPECT_EQ(other.size(), 20u);
}

TEST(Compute, LargeInputsAndResultsTravelInFragments) {
  SimulatedNetwork net;
  NodeSetup sums;
  sums.runTask = [](const std::string& task, const std::string& input) -> TaskOutcome {
    if (task != "app:sum") return runBuiltinTask(task, input);
    std::optional<json> v = parseTaskData(input);
    uint64_t sum = 0;
    for (uint8_t byte : v->get_binary()) sum += byte;
    return {true, encodeTaskData(json(sum))};
  };
  NodeConfig none;
  none.computeWorkers = 0;
  addAndStart(net, "a", none);
  net.addNode("b", {}, sums);
  ASSERT_TRUE(net.input("b", [&](NodeKernel& k, Millis now) { return k.registerTask("app:sum", now); }).ok);
  net.start("b");
  ASSERT_TRUE(net.runUntil([&] { return net.fullMesh(); }, 5000));
  net.runFor(100);  // b's Capabilities follow its handshake
  // Inputs of 300 KB: several channel messages each way.
  std::vector<std::string> inputs;
  std::vector<std::string> want;
  for (int i = 0; i < 3; ++i) {
    std::vector<uint8_t> bytes(300'000);
    uint64_t sum = 0;
    for (size_t j = 0; j < bytes.size(); ++j) sum += bytes[j] = static_cast<uint8_t>(j * 7 + i);
    inputs.push_back(encodeTaskData(json::binary(bytes)));
    want.push_back(encodeTaskData(json(sum)));
  }
  uint64_t job = mustSubmit(net, "a", "app:sum", inputs);
  ASSERT_TRUE(runUntilFinished(net, "a", job, 5000));
  EXPECT_TRUE(finishedOf(net, "a", job)->ok);
  expectOutputs(progressOf(net, "a", job), want);
  // And results of 256 KB (128 x 128 tiles) back.
  auto tiles = mandelbrotTiles(2, 1, 256, 20);
  uint64_t big = mustSubmit(net, "a", "mandelbrot", tiles);
  ASSERT_TRUE(runUntilFinished(net, "a", big, 5000));
  EXPECT_TRUE(finishedOf(net, "a", big)->ok);
  expectOutputs(progressOf(net, "a", big), expected("mandelbrot", tiles));
  EXPECT_EQ(net.oversizeFrames(), 0u);
  EXPECT_EQ(net.kernel("a").counters().rejectedFrames, 0u) << net.kernel("a").counters().lastRejection;
}

TEST(Compute, AResultOverTheOwnersLimitFailsTheJobInsteadOfStalling) {
  // a takes results of at most 1024 bytes; its peers, with the default limit,
  // return a tile's 1028 bytes in good faith. That is no lie: the unit fails
  // (as it would on a itself) and the job ends, naming the limit.
  SimulatedNetwork net;
  NodeConfig small;
  small.computeWorkers = 0;
  small.maxTaskDataBytes = 1024;
  addAndStart(net, "a", small);
  addAndStart(net, "b");
  addAndStart(net, "c");
  ASSERT_TRUE(net.runUntil([&] { return net.fullMesh(); }, 5000));
  const std::string tile = mandelbrotTiles(1, 1, 16)[0];
  ASSERT_GT(runBuiltinTask("mandelbrot", tile).bytes.size(), 1024u);
  uint64_t job = mustSubmit(net, "a", "mandelbrot", {tile});
  ASSERT_TRUE(runUntilFinished(net, "a", job, 10'000)) << "the job must end";
  auto finished = finishedOf(net, "a", job);
  EXPECT_FALSE(finished->ok);
  EXPECT_NE(finished->error.find("unit 0 failed 3 times"), std::string::npos) << finished->error;
  EXPECT_NE(finished->error.find("maxTaskDataBytes"), std::string::npos) << finished->error;
  EXPECT_NE(finished->error.find("over the limit of 1024 on a"), std::string::npos) << finished->error;
  json stats = statsOf(*finished);
  EXPECT_EQ(stats["distrustedPeers"], json::array()) << "b and c did nothing wrong";
  EXPECT_EQ(stats["rejectedResults"], 0);
  EXPECT_EQ(net.kernel("a").counters().rejectedResults, 3u) << "each refused result is counted";
  EXPECT_EQ(net.kernel("a").counters().rejectedFrames, 0u) << "but none is a protocol fault";
  EXPECT_EQ(net.kernel("a").scheduler().describeWorkers()["b"]["failures"].get<int>() +
                net.kernel("a").scheduler().describeWorkers()["c"]["failures"].get<int>(),
            3);
}

TEST(Compute, AWorkerTakesNoMoreUnitsFromAPeerThanItAdvertised) {
  // An honest owner keeps at most one unit queued behind each of a worker's
  // workers. A peer that sends more would have them queued without bound.
  SimulatedNetwork net;
  NodeConfig two;
  two.computeWorkers = 2;
  addAndStart(net, "a");
  addAndStart(net, "b", two);
  ASSERT_TRUE(net.runUntil([&] { return net.fullMesh(); }, 5000));
  const std::string tile = mandelbrotTiles(1, 1, 8)[0];
  for (uint64_t lease = 1000; lease < 1020; ++lease) inject(net, "b", "a", wire::WorkAssign{lease, "mandelbrot", tile});
  EXPECT_EQ(net.kernel("b").localWorkers().running(), 2u);
  EXPECT_EQ(net.kernel("b").localWorkers().queued(), 1u);
  EXPECT_EQ(net.kernel("b").counters().rejectedFrames, 17u);
  EXPECT_NE(net.kernel("b").counters().lastRejection.find("WorkAssign refused"), std::string::npos)
      << net.kernel("b").counters().lastRejection;
  EXPECT_EQ(net.outputs<RunTask>("b").size(), 2u);
  // Once those are done it takes more again.
  net.runFor(1000);
  EXPECT_EQ(net.outputs<RunTask>("b").size(), 3u);
  inject(net, "b", "a", wire::WorkAssign{2000, "mandelbrot", tile});
  EXPECT_EQ(net.outputs<RunTask>("b").size(), 4u);
  EXPECT_EQ(net.kernel("b").counters().rejectedFrames, 17u);
}

TEST(Compute, HonestNodesNeverRefuseEachOtherUnderRacingRevokes) {
  // Leases shorter than some units take: revokes, late results and new
  // assigns cross on the wire all the time. Honest nodes must never see a
  // protocol fault in that, and the job must still come out right.
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    NetworkOptions o;
    o.seed = seed;
    o.signalDelayMin = 1;
    o.signalDelayMax = 30;
    o.dataDelayMin = 1;
    o.dataDelayMax = 50;
    SimulatedNetwork net(o);
    for (const char* id : {"a", "b", "c", "d"}) {
      NodeSetup setup;
      // d often takes longer than a lease; the others rarely do, unless a
      // unit waits long behind another.
      Millis base = id[0] == 'd' ? 200 : 40, spread = id[0] == 'd' ? 120 : 80;
      setup.taskDuration = [base, spread, seed](const std::string&, const std::string& input) {
        unsigned sum = static_cast<unsigned>(seed);
        for (char ch : input) sum = sum * 31 + static_cast<unsigned char>(ch);
        return Millis(base + sum % static_cast<unsigned>(spread));
      };
      NodeConfig config;
      config.computeWorkers = id[0] == 'b' ? 2 : 1;
      addAndStart(net, id, config, setup);
    }
    ASSERT_TRUE(net.runUntil([&] { return net.fullMesh(); }, 5000));
    auto tiles = mandelbrotTiles(6, 5, 8, 50);
    uint64_t job = mustSubmit(net, "a", "mandelbrot", tiles, options(seed % 2 + 1, 250, 20));
    ASSERT_TRUE(runUntilFinished(net, "a", job, 60'000));
    auto finished = finishedOf(net, "a", job);
    EXPECT_TRUE(finished->ok) << finished->error;
    expectOutputs(progressOf(net, "a", job), expected("mandelbrot", tiles));
    EXPECT_GT(statsOf(*finished)["retries"].get<int>(), 0) << "leases did time out";
    EXPECT_EQ(statsOf(*finished)["rejectedResults"], 0);
    EXPECT_EQ(statsOf(*finished)["distrustedPeers"], json::array());
    for (const char* id : {"a", "b", "c", "d"}) {
      EXPECT_EQ(net.kernel(id).counters().rejectedFrames, 0u) << id << ": " << net.kernel(id).counters().lastRejection;
      EXPECT_EQ(net.kernel(id).counters().rejectedResults, 0u) << id;
    }
    net.runFor(2000);
    for (const char* id : {"b", "c", "d"}) {
      EXPECT_EQ(net.kernel(id).localWorkers().queued() + net.kernel(id).localWorkers().running(), 0u) << id;
    }
    if (HasFailure()) break;
  }
}

// A host whose workers keep a queue (Web Workers) is handed one unit more per
// worker, so a worker starts its next unit as soon as it ends one instead of
// waiting for a round trip through the page. With a 2 ms hop each way and
// 10 ms units, a lone node finishes 40 units in 40 x 10 ms plus one round
// trip, against 40 x 14 ms when the kernel holds the next unit back.
TEST(Compute, AQueuedUnitKeepsAWorkerBusyBetweenUnits) {
  auto jobTime = [](uint32_t queuedPerWorker) {
    SimulatedNetwork net;
    NodeConfig config;
    config.computeWorkers = 1;
    config.unitsQueuedPerWorker = queuedPerWorker;
    NodeSetup host;
    host.workerQueues = true;
    host.workerHopMs = 2;
    host.taskMs = 10;
    addAndStart(net, "solo", config, host);
    net.runFor(100);
    std::vector<std::string> inputs;
    for (uint64_t i = 0; i < 40; ++i) inputs.push_back(encodeTaskData({{"from", i * 100}, {"to", i * 100 + 100}}));
    const Millis startedAt = net.now();
    uint64_t job = mustSubmit(net, "solo", "countPrimes", inputs);
    EXPECT_TRUE(runUntilFinished(net, "solo", job, 5000));
    EXPECT_TRUE(finishedOf(net, "solo", job)->ok);
    expectOutputs(progressOf(net, "solo", job), expected("countPrimes", inputs));
    size_t mostHanded = 0;
    for (const auto& [at, run] : net.outputs<RunTask>("solo")) {
      size_t handed = 0;  // RunTasks out by then, less the results back by then
      for (const auto& [at2, r] : net.outputs<RunTask>("solo")) handed += at2 <= at;
      for (const auto& [at2, p] : net.outputs<JobProgress>("solo")) handed -= at2 <= at && p.job == job;
      mostHanded = std::max(mostHanded, handed);
    }
    EXPECT_EQ(mostHanded, 1u + queuedPerWorker) << "units the host held at once";
    return net.now() - startedAt;
  };
  const Millis heldBack = jobTime(0);
  const Millis queued = jobTime(1);
  EXPECT_NEAR(heldBack, 40 * 14, 1);
  EXPECT_NEAR(queued, 40 * 10 + 4, 1);
}

// Cancelling the unit a worker is running terminates that worker (a task
// cannot be interrupted otherwise); the unit queued behind it is not lost
// but runs in the fresh worker. Here job A's unit hangs and job B's waits
// behind it in the same worker; cancelling A lets B finish at once.
TEST(Compute, CancellingARunningUnitLetsTheUnitQueuedBehindItRun) {
  SimulatedNetwork net;
  NodeConfig config;
  config.computeWorkers = 1;
  config.unitsQueuedPerWorker = 1;
  NodeSetup host;
  host.workerQueues = true;
  host.workerHopMs = 1;
  host.taskDuration = [](const std::string&, const std::string& input) {
    return parseTaskData(input)->at("from") == 0 ? 60'000.0 : 10.0;
  };
  addAndStart(net, "solo", config, host);
  net.runFor(100);
  const std::string hangs = encodeTaskData({{"from", 0}, {"to", 1000}});
  const std::string quick = encodeTaskData({{"from", 1000}, {"to", 2000}});
  uint64_t a = mustSubmit(net, "solo", "countPrimes", {hangs});
  uint64_t b = mustSubmit(net, "solo", "countPrimes", {quick});
  net.runFor(1000);
  auto runs = net.outputs<RunTask>("solo");
  ASSERT_EQ(runs.size(), 2u) << "both units are with the host: A's running, B's queued behind it";
  EXPECT_FALSE(finishedOf(net, "solo", b)) << "B waits behind A's hung unit";
  const Millis cancelledAt = net.now();
  ASSERT_TRUE(net.input("solo", [&](NodeKernel& k, Millis now) { return k.cancelJob(a, now); }).ok);
  ASSERT_TRUE(runUntilFinished(net, "solo", b, 1000));
  EXPECT_LE(net.now(), cancelledAt + 10 + 2 * host.workerHopMs + 1) << "B ran as soon as its worker was replaced";
  EXPECT_TRUE(finishedOf(net, "solo", b)->ok);
  expectOutputs(progressOf(net, "solo", b), expected("countPrimes", {quick}));
  auto cancels = net.outputs<CancelTask>("solo");
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].second.exec, runs[0].second.exec) << "only A's unit was stopped";
  EXPECT_EQ(net.kernel("solo").localWorkers().running(), 0u);
}

// Finding 10: a peer could queue units with no CPU limit (one mandelbrot unit
// of about 10^16 iterations pins a worker). A unit run for a peer has a
// budget (maxUnitMs): the host stops it when it is spent, and the owner is
// told. This node's own units have none.
TEST(Compute, APeersUnitIsStoppedAtItsCpuBudget) {
  SimulatedNetwork net;
  NodeConfig worker;
  worker.maxUnitMs = 500;
  NodeSetup slowHost;
  slowHost.taskDuration = [](const std::string&, const std::string&) { return 3'600'000.0; };  // an hour
  NodeConfig owner;
  owner.computeWorkers = 0;
  addAndStart(net, "a", owner);
  addAndStart(net, "b", worker, slowHost);
  ASSERT_TRUE(net.runUntil([&] { return net.fullMesh(); }, 5000));
  net.runFor(500);
  uint64_t job = mustSubmit(net, "a", "mandelbrot", mandelbrotTiles(1, 1), options(1, 60'000, 2));
  ASSERT_TRUE(runUntilFinished(net, "a", job, 5000)) << "two attempts of 500 ms, not an hour";
  std::optional<JobFinished> f = finishedOf(net, "a", job);
  EXPECT_FALSE(f->ok);
  EXPECT_NE(f->error.find("CPU budget"), std::string::npos) << f->error;
  auto runs = net.outputs<RunTask>("b");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].second.budgetMs, 500);
  EXPECT_EQ(net.kernel("b").localWorkers().running(), 0u) << "b's worker is free again";

  // b's own units run unbounded.
  uint64_t own = mustSubmit(net, "b", "countPrimes", {encodeTaskData({{"from", 0}, {"to", 10}})});
  (void)own;
  EXPECT_EQ(net.outputs<RunTask>("b").back().second.budgetMs, 0);
}

// Owners share a worker's slots fairly: one peer's flood of units does not
// keep another's (or the node's own) waiting behind it.
TEST(Compute, OwnersShareAWorkersSlotsFairly) {
  SimulatedNetwork net;
  NodeConfig worker;
  worker.computeWorkers = 1;
  NodeSetup host;
  host.taskMs = 100;
  addAndStart(net, "w", worker, host);
  for (const char* id : {"m", "o"}) {
    NodeConfig none;
    none.computeWorkers = 0;
    addAndStart(net, id, none);
  }
  ASSERT_TRUE(net.runUntil([&] { return net.fullMesh(); }, 5000));
  const std::string tile = mandelbrotTiles(1, 1, 8)[0];
  // m fills its share first (a worker takes workers + 1 units from one owner).
  inject(net, "w", "m", wire::WorkAssign{1, "mandelbrot", tile});
  inject(net, "w", "m", wire::WorkAssign{2, "mandelbrot", tile});
  inject(net, "w", "o", wire::WorkAssign{1, "mandelbrot", tile});
  inject(net, "w", "o", wire::WorkAssign{2, "mandelbrot", tile});
  net.runFor(2000);
  // m's first unit started at once; then o's, not m's second.
  std::vector<std::string> origins;
  for (const auto& [at, frame] : net.outputs<SendData>("w")) {
    wire::Decoded d = wire::decode(frame.bytes);
    if (d.frame && std::holds_alternative<wire::WorkResult>(*d.frame)) origins.push_back(frame.peerId);
  }
  EXPECT_EQ(origins, (std::vector<std::string>{"m", "o", "m", "o"}));
}

// Rejections say what was wrong in the kernel's words: a WorkAssign for a
// task nobody registered is not echoed back (finding 9: 1 MiB in, 1 MiB out).
TEST(Compute, ARefusedUnitEchoesNothingThePeerSent) {
  SimulatedNetwork net;
  addAndStart(net, "a");
  addAndStart(net, "b");
  ASSERT_TRUE(net.runUntil([&] { return net.fullMesh(); }, 5000));
  const std::string name(64, 'q');
  inject(net, "b", "a", wire::WorkAssign{9, name, encodeTaskData(json::object())});
  const std::string& why = net.kernel("b").counters().lastRejection;
  EXPECT_EQ(why.find(name), std::string::npos) << why;
  EXPECT_LE(why.size(), 256u);
  bool answered = false;
  for (const auto& [at, frame] : net.outputs<SendData>("b")) {
    wire::Decoded d = wire::decode(frame.bytes);
    if (!d.frame) continue;
    if (auto* r = std::get_if<wire::WorkResult>(&*d.frame)) {
      answered = true;
      EXPECT_FALSE(r->ok);
      EXPECT_EQ(r->bytes.find(name), std::string::npos) << r->bytes;
    }
  }
  EXPECT_TRUE(answered);
}

// Small units across the kernel and a modelled host: units that run here in
// 0.05 ms, a peer a round trip of about 2 ms away. Once the pings have
// measured that round trip and the job has seen one of its units run here,
// its units stay here, where the worker takes about 4 ms of them at a time;
// the peer gets only what went out before the job knew.
TEST(Compute, SmallUnitsStayHomeInADeepQueue) {
  pcsim::NetworkOptions o;
  o.dataDelayMin = 1;
  o.dataDelayMax = 1;
  SimulatedNetwork net(o);
  NodeConfig config;
  config.computeWorkers = 1;
  config.unitsQueuedPerWorker = 1;
  NodeSetup host;
  host.workerQueues = true;
  host.workerHopMs = 0.02;
  host.taskMs = 0.05;
  addAndStart(net, "a", config, host);
  addAndStart(net, "b", config, host);
  ASSERT_TRUE(net.runUntil([&] { return net.fullMesh(); }, 5000));
  net.runFor(3000);  // pings measure the round trip
  std::vector<std::string> inputs(2000, encodeTaskData({{"from", 0}, {"to", 10}}));
  const Millis startedAt = net.now();
  uint64_t job = mustSubmit(net, "a", "countPrimes", inputs);
  ASSERT_TRUE(runUntilFinished(net, "a", job, 10'000));
  ASSERT_TRUE(finishedOf(net, "a", job)->ok);
  expectOutputs(progressOf(net, "a", job), expected("countPrimes", inputs));
  json byPeer = statsOf(*finishedOf(net, "a", job))["unitsByPeer"];
  EXPECT_LE(byPeer.value("b", 0), 2);
  // The host held up to 1 + 64 units of the job at once.
  size_t mostHanded = 0, handed = 0;
  std::vector<std::pair<Millis, int>> events;
  for (const auto& [at, run] : net.outputs<RunTask>("a")) events.push_back({at, +1});
  for (const auto& [at, p] : net.outputs<JobProgress>("a"))
    if (p.job == job && p.peers == std::vector<std::string>{"a"}) events.push_back({at, -1});
  std::sort(events.begin(), events.end());  // at one time, results before the units they make room for
  for (const auto& [at, delta] : events) mostHanded = std::max(mostHanded, handed += delta);
  EXPECT_GT(mostHanded, 40u);
  EXPECT_LE(mostHanded, 65u);
  // 2000 units of 0.05 ms: about 100 ms of work, and not much more.
  EXPECT_LT(net.now() - startedAt, 150);
}
