// The embind surface of the kernel: the only file that includes Emscripten
// headers. It converts, and decides nothing.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "compute/builtin_tasks.h"
#include "kernel/node_kernel.h"

namespace {

using emscripten::val;

std::string errorOf(const pc::Result& r) { return r.ok ? std::string() : r.error; }

// Outputs cross to JavaScript as one little-endian byte stream per drain,
// decoded by js-glue/kernel-output-decoder.js. Building a JS object per output
// field by field costs a boundary crossing per field; this costs one.
//
//   f64 nextTimeout (-1: none), then records: u8 kind, fields
//   str = u32 length + UTF-8 bytes; peer = u32 handle (0 = this node)
enum class Record : uint8_t {
  Intern = 0,            // u32 handle, str peerId: names a handle before its first use
  Signal = 1,            // str to, str text
  Open = 2,              // peer, u8 initiator
  Rtc = 3,               // peer, str data
  Close = 4,             // peer
  Send = 5,              // peer, u8 unreliable, str bytes
  PeerConnected = 6,     // peer
  PeerDisconnected = 7,  // peer, str reason
  State = 8,             // peer origin, u32 n, n x (str key, u8 hasValue, [str value])
  Message = 9,           // peer, u8 binary, str payload
  Persist = 10,          // str bytes
  Compact = 11,          // (no fields)
  Presence = 12,         // peer, u8 has, [str json]
  ServerConnect = 13,    // str url
  ServerSend = 14,       // str text
  ServerClose = 15,      // (no fields)
  ServerList = 16,       // str url
  Seal = 17,             // f64 ticket, str text
  Unseal = 18,           // f64 ticket, str sealed
  Authenticate = 19,     // f64 ticket, peer, str ourChallenge, str theirChallenge (raw bytes)
  RunTask = 20,          // f64 exec, str task, str input (task data), f64 budgetMs (0: none)
  CancelTask = 21,       // f64 exec
  JobProgress = 22,      // f64 job, u32 unit, u32 done, u32 total, u32 n, n x peer, str output
  JobFinished = 23,      // f64 job, u8 ok, str error, str statsJson
  EntropyWanted = 24,    // u32 bytes
};

class OutputEncoder {
 public:
  void reset(double timeout) {
    buf_.clear();
    f64(timeout);
  }
  void kind(Record r) { buf_.push_back(static_cast<uint8_t>(r)); }
  void u8(uint8_t v) { buf_.push_back(v); }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) buf_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void str(const void* data, size_t n) {
    u32(static_cast<uint32_t>(n));
    const auto* b = static_cast<const uint8_t*>(data);
    buf_.insert(buf_.end(), b, b + n);
  }
  void str(const std::string& s) { str(s.data(), s.size()); }
  const std::vector<uint8_t>& bytes() const { return buf_; }
  void f64(double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    for (int i = 0; i < 8; ++i) buf_.push_back(static_cast<uint8_t>(bits >> (8 * i)));
  }
  std::vector<uint8_t> buf_;
};

// Reads the batches JavaScript writes into the input buffer: little-endian
// u32 counts and lengths, and byte strings, each checked against the end.
class BatchReader {
 public:
  BatchReader(const std::vector<uint8_t>& buffer, size_t size)
      : p_(buffer.data()), end_(p_ + std::min(size, buffer.size())) {}
  bool u32(uint32_t* v) {
    if (end_ - p_ < 4) return false;
    *v = uint32_t(p_[0]) | uint32_t(p_[1]) << 8 | uint32_t(p_[2]) << 16 | uint32_t(p_[3]) << 24;
    p_ += 4;
    return true;
  }
  bool text(uint32_t n, std::string* out) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    out->assign(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return true;
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

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

  void handleSignal(const std::string& text, double now) { kernel_.handleSignal(text, now); }
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
  void handleData(uint32_t peer, size_t size, bool unreliable, double now) {
    if (peer == 0 || peer > ids_.size() || size > inbox_.size()) return;
    kernel_.handleData(ids_[peer - 1], inbox_.data(), size, now, unreliable);
  }
  void handleTimeout(double now) { kernel_.handleTimeout(now); }
  // CSPRNG bytes from the host, in the input buffer.
  void addEntropy(size_t size) { kernel_.addEntropy(inbox_.data(), std::min(size, inbox_.size())); }

  void handleServerOpen(double now) { kernel_.handleServerOpen(now); }
  void handleServerMessage(const std::string& text, double now) { kernel_.handleServerMessage(text, now); }
  void handleServerClosed(double now) { kernel_.handleServerClosed(now); }
  void handleServerPeers(bool ok, const std::string& listing, double now) {
    kernel_.handleServerPeers(ok, listing, now);
  }
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

  // Local operations, queued in JavaScript and committed in one crossing.
  // The input buffer holds: u32 count, then per operation u32 key length,
  // key, u32 value length (0xFFFFFFFF: a delete), value.
  std::string commitEncoded(size_t size, double now) {
    BatchReader in(inbox_, size);
    uint32_t count = 0;
    if (!in.u32(&count)) return "malformed operation batch";
    std::vector<pc::Operation> ops;
    ops.reserve(std::min<uint32_t>(count, 1 << 16));
    for (uint32_t i = 0; i < count; ++i) {
      uint32_t keyLength = 0, valueLength = 0;
      std::string key, value;
      if (!in.u32(&keyLength) || !in.text(keyLength, &key) || !in.u32(&valueLength)) return "malformed operation batch";
      if (valueLength == 0xFFFFFFFFu) {
        ops.emplace_back(std::move(key), std::nullopt);
      } else {
        if (!in.text(valueLength, &value)) return "malformed operation batch";
        ops.emplace_back(std::move(key), std::move(value));
      }
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

  // Compute. A job's inputs are in the input buffer: u32 count, then per
  // input u32 length and its task data. Returns the job id, or an error.
  val submitJob(const std::string& task, size_t size, double redundancy, double timeoutMs, double maxAttempts,
                double now) {
    BatchReader in(inbox_, size);
    uint32_t count = 0;
    if (!in.u32(&count)) return val("malformed input batch");
    std::vector<std::string> inputs;
    inputs.reserve(std::min<uint32_t>(count, 1 << 16));
    for (uint32_t i = 0; i < count; ++i) {
      uint32_t n = 0;
      if (!in.u32(&n) || !in.text(n, &inputs.emplace_back())) return val("malformed input batch");
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
  void handleTaskResult(double exec, bool ok, size_t size, double now) {
    if (size > inbox_.size()) return;
    kernel_.handleTaskResult(static_cast<uint64_t>(exec), ok,
                             std::string(reinterpret_cast<const char*>(inbox_.data()), size), now);
  }
  std::string jobStats(double job) const { return kernel_.jobStats(static_cast<uint64_t>(job)).dump(); }

  // Every output queued since the last call, and the next timeout, as a view
  // of wasm memory that the caller copies before calling in again.
  val pollOutputs() {
    std::optional<double> timeout = kernel_.pollTimeout();
    out_.reset(timeout ? *timeout : -1);
    while (std::optional<pc::Output> o = kernel_.pollOutput()) std::visit([this](auto& x) { encode(x); }, *o);
    return val(emscripten::typed_memory_view(out_.bytes().size(), out_.bytes().data()));
  }

  std::string status() const { return kernel_.describeStatus().dump(); }
  std::string peers() const { return kernel_.describePeers().dump(); }

 private:
  uint32_t handle(const std::string& peerId) {
    if (peerId.empty()) return 0;
    auto [it, inserted] = handles_.try_emplace(peerId, static_cast<uint32_t>(ids_.size() + 1));
    if (inserted) {
      ids_.push_back(peerId);
      out_.kind(Record::Intern);
      out_.u32(it->second);
      out_.str(peerId);
    }
    return it->second;
  }
  // Interning may itself write a record, so it happens before the record
  // that uses the handle.
  void peerRecord(Record kind, const std::string& peerId) {
    uint32_t h = handle(peerId);
    out_.kind(kind);
    out_.u32(h);
  }

  void encode(const pc::SendSignal& o) {
    out_.kind(Record::Signal);
    out_.str(o.to);
    out_.str(o.text);
  }
  void encode(const pc::OpenConnection& o) {
    peerRecord(Record::Open, o.peerId);
    out_.u8(o.initiator ? 1 : 0);
  }
  void encode(const pc::DeliverRtcSignal& o) {
    peerRecord(Record::Rtc, o.peerId);
    out_.str(o.data);
  }
  void encode(const pc::CloseConnection& o) { peerRecord(Record::Close, o.peerId); }
  void encode(const pc::SendData& o) {
    peerRecord(Record::Send, o.peerId);
    out_.u8(o.unreliable ? 1 : 0);
    out_.str(o.bytes.data(), o.bytes.size());
  }
  void encode(const pc::PeerConnected& o) { peerRecord(Record::PeerConnected, o.peerId); }
  void encode(const pc::PeerDisconnected& o) {
    peerRecord(Record::PeerDisconnected, o.peerId);
    out_.str(o.reason);
  }
  void encode(const pc::StateChanged& o) {
    // JavaScript applied its own operations when it queued them.
    if (o.origin.empty()) return;
    peerRecord(Record::State, o.origin);
    out_.u32(static_cast<uint32_t>(o.changes.size()));
    for (const pc::KeyChange& c : o.changes) {
      out_.str(c.key);
      out_.u8(c.value ? 1 : 0);
      if (c.value) out_.str(*c.value);
    }
  }
  void encode(const pc::MessageReceived& o) {
    peerRecord(Record::Message, o.peerId);
    out_.u8(o.binary ? 1 : 0);
    out_.str(o.payload);
  }
  void encode(const pc::PersistRecord& o) {
    out_.kind(Record::Persist);
    out_.str(o.bytes.data(), o.bytes.size());
  }
  void encode(const pc::CompactStorage&) { out_.kind(Record::Compact); }
  void encode(const pc::PresenceChanged& o) {
    peerRecord(Record::Presence, o.peerId);
    out_.u8(o.json ? 1 : 0);
    if (o.json) out_.str(*o.json);
  }

  void encode(const pc::ServerConnect& o) {
    out_.kind(Record::ServerConnect);
    out_.str(o.url);
  }
  void encode(const pc::ServerSend& o) {
    out_.kind(Record::ServerSend);
    out_.str(o.text);
  }
  void encode(const pc::ServerClose&) { out_.kind(Record::ServerClose); }
  void encode(const pc::ServerList& o) {
    out_.kind(Record::ServerList);
    out_.str(o.url);
  }
  void encode(const pc::SealSignal& o) {
    out_.kind(Record::Seal);
    out_.f64(static_cast<double>(o.ticket));
    out_.str(o.text);
  }
  void encode(const pc::UnsealSignal& o) {
    out_.kind(Record::Unseal);
    out_.f64(static_cast<double>(o.ticket));
    out_.str(o.sealed);
  }
  void encode(const pc::AuthenticatePeer& o) {
    uint32_t h = handle(o.peerId);
    out_.kind(Record::Authenticate);
    out_.f64(static_cast<double>(o.ticket));
    out_.u32(h);
    out_.str(o.ourChallenge);
    out_.str(o.theirChallenge);
  }

  void encode(const pc::RunTask& o) {
    out_.kind(Record::RunTask);
    out_.f64(static_cast<double>(o.exec));
    out_.str(o.task);
    out_.str(o.input);
    out_.f64(o.budgetMs);
  }
  void encode(const pc::CancelTask& o) {
    out_.kind(Record::CancelTask);
    out_.f64(static_cast<double>(o.exec));
  }
  void encode(const pc::JobProgress& o) {
    std::vector<uint32_t> peers;
    for (const std::string& p : o.peers) peers.push_back(handle(p));
    out_.kind(Record::JobProgress);
    out_.f64(static_cast<double>(o.job));
    out_.u32(static_cast<uint32_t>(o.unit));
    out_.u32(static_cast<uint32_t>(o.done));
    out_.u32(static_cast<uint32_t>(o.total));
    out_.u32(static_cast<uint32_t>(peers.size()));
    for (uint32_t h : peers) out_.u32(h);
    out_.str(o.output);
  }
  void encode(const pc::JobFinished& o) {
    out_.kind(Record::JobFinished);
    out_.f64(static_cast<double>(o.job));
    out_.u8(o.ok ? 1 : 0);
    out_.str(o.error);
    out_.str(o.statsJson);
  }

  void encode(const pc::EntropyWanted& o) {
    out_.kind(Record::EntropyWanted);
    out_.u32(o.bytes);
  }

  static val view(const std::vector<uint8_t>& b) { return val(emscripten::typed_memory_view(b.size(), b.data())); }

  pc::NodeKernel kernel_;
  std::vector<uint8_t> inbox_;
  std::vector<uint8_t> bytes_;  // the last encoded state, returned as a view
  OutputEncoder out_;
  std::unordered_map<std::string, uint32_t> handles_;
  std::vector<std::string> ids_;  // handle h names ids_[h - 1]
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

}  // namespace

EMSCRIPTEN_BINDINGS(peercompute) {
  emscripten::function("runBuiltinTask", &runBuiltinTask);
  emscripten::function("builtinTaskNames", &builtinTaskNames);
  emscripten::class_<KernelBinding>("Kernel")
      .constructor<>()
      .function("initialize", &KernelBinding::initialize)
      .function("start", &KernelBinding::start)
      .function("stop", &KernelBinding::stop)
      .function("handleSignal", &KernelBinding::handleSignal)
      .function("handleLocalRtcSignal", &KernelBinding::handleLocalRtcSignal)
      .function("handleChannelOpen", &KernelBinding::handleChannelOpen)
      .function("handleChannelClosed", &KernelBinding::handleChannelClosed)
      .function("handleSendOverflow", &KernelBinding::handleSendOverflow)
      .function("inputBuffer", &KernelBinding::inputBuffer)
      .function("handleData", &KernelBinding::handleData)
      .function("handleTimeout", &KernelBinding::handleTimeout)
      .function("addEntropy", &KernelBinding::addEntropy)
      .function("handleServerOpen", &KernelBinding::handleServerOpen)
      .function("handleServerMessage", &KernelBinding::handleServerMessage)
      .function("handleServerClosed", &KernelBinding::handleServerClosed)
      .function("handleServerPeers", &KernelBinding::handleServerPeers)
      .function("handleSealed", &KernelBinding::handleSealed)
      .function("handleUnsealed", &KernelBinding::handleUnsealed)
      .function("handleAuthProofs", &KernelBinding::handleAuthProofs)
      .function("commitEncoded", &KernelBinding::commitEncoded)
      .function("encodeStateVector", &KernelBinding::encodeStateVector)
      .function("encodeStateAsUpdate", &KernelBinding::encodeStateAsUpdate)
      .function("applyUpdate", &KernelBinding::applyUpdate)
      .function("snapshotForStorage", &KernelBinding::snapshotForStorage)
      .function("sendMessage", &KernelBinding::sendMessage)
      .function("broadcastMessage", &KernelBinding::broadcastMessage)
      .function("setPresence", &KernelBinding::setPresence)
      .function("submitJob", &KernelBinding::submitJob)
      .function("cancelJob", &KernelBinding::cancelJob)
      .function("registerTask", &KernelBinding::registerTask)
      .function("handleTaskResult", &KernelBinding::handleTaskResult)
      .function("jobStats", &KernelBinding::jobStats)
      .function("pollOutputs", &KernelBinding::pollOutputs)
      .function("status", &KernelBinding::status)
      .function("peers", &KernelBinding::peers);
}
