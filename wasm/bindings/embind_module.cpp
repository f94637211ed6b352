// The embind surface of the kernel: the only file that includes Emscripten
// headers. It converts, and decides nothing.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <algorithm>
#include <string>
#include <vector>

#include "compute/builtin_tasks.h"
// Generated from wasm/host/host_interface.json (scripts/generate-host-interface.mjs):
// the output stream's encoder, the input batches' readers and the method list.
#include "host/input_batches.h"
#include "host/kernel_methods.h"
#include "host/output_encoder.h"
#include "kernel/node_kernel.h"
#include "kernel/result.h"
#include "rules/app_rules.h"

namespace {

using emscripten::val;

std::string errorOf(const pc::Result& r) { return r.ok ? std::string() : r.error; }

// Owns one kernel. Results come back as an error string, empty on success,
// so the JS side can throw an Error that says what was wrong.
class KernelBinding {
 public:
  std::string initialize(const std::string& configJson, double now) {
    std::string error;
    std::optional<pc::NodeConfig> config = pc::NodeConfig::fromJson(configJson, &error);
    if (!config) return "invalid config: " + error;
    return errorOf(kernel_.initialize(*config, now));
  }
  std::string start(double now) { return errorOf(kernel_.start(now)); }
  std::string stop(double now) { return errorOf(kernel_.stop(now)); }

  void handleRouteOpen(const std::string& route, double now) { kernel_.handleRouteOpen(route, now); }
  void handleRouteMessage(const std::string& route, const std::string& text, double now) {
    kernel_.handleRouteMessage(route, text, now);
  }
  void handleRouteClosed(const std::string& route, double now) { kernel_.handleRouteClosed(route, now); }
  void handleRouteListing(const std::string& route, bool ok, const std::string& listing, double now) {
    kernel_.handleRouteListing(route, ok, listing, now);
  }
  void handleLocalRtcSignal(const std::string& peerId, const std::string& data, double now) {
    kernel_.handleLocalRtcSignal(peerId, data, now);
  }
  void handleChannelOpen(const std::string& peerId, double now) { kernel_.handleChannelOpen(peerId, now); }
  void handleChannelClosed(const std::string& peerId, double now) { kernel_.handleChannelClosed(peerId, now); }
  void handleSendOverflow(const std::string& peerId, double now) { kernel_.handleSendOverflow(peerId, now); }

  // Bytes arrive through a buffer in wasm memory that JavaScript fills with
  // HEAPU8.set: inputBuffer(n) returns its address, valid until the next call
  // that asks for more room.
  uintptr_t inputBuffer(size_t size) {
    if (inbox_.size() < size) inbox_.resize(size);
    return reinterpret_cast<uintptr_t>(inbox_.data());
  }
  // `peer` is a handle from the output stream.
  void handleData(uint32_t peer, size_t size, bool unreliable, double now) {
    const std::string* peerId = out_.peerId(peer);
    if (!peerId || size > inbox_.size()) return;
    kernel_.handleData(*peerId, inbox_.data(), size, now, unreliable);
  }
  void handleTimeout(double now) { kernel_.handleTimeout(now); }
  // CSPRNG bytes from the host, in the input buffer.
  void addEntropy(size_t size) { kernel_.addEntropy(inbox_.data(), std::min(size, inbox_.size())); }

  void handleSealed(double ticket, const std::string& sealed, double now) {
    kernel_.handleSealed(static_cast<uint64_t>(ticket), sealed, now);
  }
  void handleUnsealed(double ticket, bool ok, const std::string& text, double now) {
    kernel_.handleUnsealed(static_cast<uint64_t>(ticket), ok, text, now);
  }
  // The proofs are raw bytes in the input buffer: `proofSize` of ours, then
  // the one expected of the peer.
  void handleAuthProofs(double ticket, size_t proofSize, size_t expectedSize, double now) {
    if (proofSize + expectedSize > inbox_.size()) return;
    const char* p = reinterpret_cast<const char*>(inbox_.data());
    kernel_.handleAuthProofs(static_cast<uint64_t>(ticket), std::string(p, proofSize),
                             std::string(p + proofSize, expectedSize), now);
  }

  // Local operations, queued in JavaScript and committed in one crossing, as
  // an OperationBatch in the input buffer.
  std::string commitEncoded(size_t size, double now) {
    std::vector<pc::Operation> ops;
    if (!pc::host::readOperationBatch(inbox_.data(), std::min(size, inbox_.size()), &ops)) {
      return "malformed operation batch";
    }
    return errorOf(kernel_.commit(ops, now));
  }

  // State as bytes. Results are views of wasm memory, valid until the next call.
  val encodeStateVector() { return view(bytes_ = kernel_.encodeStateVector()); }
  // The vector (SyncRequest bytes) is in the input buffer; size 0 means none.
  val encodeStateAsUpdate(size_t size) {
    pc::Result r = kernel_.encodeStateAsUpdate(inbox_.data(), std::min(size, inbox_.size()), &bytes_);
    return r.ok ? view(bytes_) : val(r.error);
  }
  std::string applyUpdate(size_t size, bool fromStorage, double now) {
    return errorOf(kernel_.applyUpdate(inbox_.data(), std::min(size, inbox_.size()), fromStorage, now));
  }
  val snapshotForStorage() { return view(bytes_ = kernel_.snapshotForStorage()); }

  // A message's payload (JSON text or raw bytes) is in the input buffer.
  std::string sendMessage(const std::string& peerId, size_t size, bool binary, bool reliable, double now) {
    if (size > inbox_.size()) return "message larger than the input buffer";
    return errorOf(kernel_.sendMessage(peerId, std::string(reinterpret_cast<const char*>(inbox_.data()), size),
                                       pc::MessageKind{binary, reliable}, now));
  }
  std::string broadcastMessage(size_t size, bool binary, bool reliable, double now) {
    if (size > inbox_.size()) return "message larger than the input buffer";
    return errorOf(kernel_.broadcastMessage(std::string(reinterpret_cast<const char*>(inbox_.data()), size),
                                            pc::MessageKind{binary, reliable}, now));
  }
  std::string setPresence(const std::string& json, double now) { return errorOf(kernel_.setPresence(json, now)); }

  // Compute. A job's inputs are a TaskInputBatch in the input buffer.
  // Returns the job id, or an error.
  val submitJob(const std::string& task, size_t size, double redundancy, double timeoutMs, double maxAttempts,
                double now) {
    std::vector<std::string> inputs;
    if (!pc::host::readTaskInputBatch(inbox_.data(), std::min(size, inbox_.size()), &inputs)) {
      return val("malformed input batch");
    }
    pc::JobOptions options;
    options.redundancy = static_cast<uint32_t>(redundancy);
    options.timeoutMs = timeoutMs;
    options.maxAttempts = static_cast<uint32_t>(maxAttempts);
    uint64_t job = 0;
    pc::Result r = kernel_.submitJob(task, std::move(inputs), options, now, &job);
    return r.ok ? val(static_cast<double>(job)) : val(r.error);
  }
  std::string cancelJob(double job, double now) { return errorOf(kernel_.cancelJob(static_cast<uint64_t>(job), now)); }
  std::string registerTask(const std::string& name, double now) { return errorOf(kernel_.registerTask(name, now)); }
  // The result (task data, or an error message when !ok) is in the input buffer.
  void handleTaskResult(double exec, bool ok, size_t size, double runMs, double now) {
    if (size > inbox_.size()) return;
    kernel_.handleTaskResult(static_cast<uint64_t>(exec), ok,
                             std::string(reinterpret_cast<const char*>(inbox_.data()), size), runMs, now);
  }
  std::string jobStats(double job) const { return kernel_.jobStats(static_cast<uint64_t>(job)).dump(); }

  // Every output queued since the last call, and the next timeout, as a view
  // of wasm memory that the caller copies before calling in again.
  val pollOutputs() {
    std::optional<pc::Millis> timeout = kernel_.pollTimeout();
    out_.begin(timeout ? *timeout : -1);
    while (std::optional<pc::Output> o = kernel_.pollOutput()) out_.encode(*o);
    return view(out_.stream());
  }

  std::string status() const { return kernel_.describeStatus().dump(); }
  std::string peers() const { return kernel_.describePeers().dump(); }
  std::string computePeers() const { return kernel_.describeComputePeers().dump(); }

 private:
  static val view(const std::vector<uint8_t>& b) { return val(emscripten::typed_memory_view(b.size(), b.data())); }

  pc::NodeKernel kernel_;
  std::vector<uint8_t> inbox_;
  std::vector<uint8_t> bytes_;  // the last encoded state, returned as a view
  pc::host::OutputEncoder out_;
};

// Runs a built-in task; a Web Worker calls it with task data. Returns the
// result's bytes (a view of wasm memory, valid until the next call), or an
// error message.
val runBuiltinTask(const std::string& name, const std::string& input) {
  static std::string result;
  pc::TaskOutcome outcome = pc::runBuiltinTask(name, input);
  if (!outcome.ok) return val(outcome.bytes);
  result = std::move(outcome.bytes);
  return val(emscripten::typed_memory_view(result.size(), reinterpret_cast<const uint8_t*>(result.data())));
}

val builtinTaskNames() {
  val names = val::array();
  for (const std::string& n : pc::builtinTaskNames()) names.call<void>("push", n);
  return names;
}

// The rules the JS API checks input against, and the status of a node not
// yet initialized, both as JSON. scripts/build.sh builds them into the
// package (dist/rules/kernel-rules.js), so the JS API needs no wasm to check
// a config, and defines none of the rules itself.
std::string appRules() { return pc::rules::describeAppRules().dump(); }
std::string statusBeforeInit() { return pc::NodeKernel().describeStatus().dump(); }

}  // namespace

EMSCRIPTEN_BINDINGS(peercompute) {
  emscripten::function("runBuiltinTask", &runBuiltinTask);
  emscripten::function("builtinTaskNames", &builtinTaskNames);
  emscripten::function("appRules", &appRules);
  emscripten::function("statusBeforeInit", &statusBeforeInit);
  pc::host::bindKernelMethods<KernelBinding, val>(emscripten::class_<KernelBinding>("Kernel").constructor<>());
}
