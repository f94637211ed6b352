// The embind surface of the kernel: the only file that includes Emscripten
// headers. It converts, and decides nothing. Every output of one drain crosses
// the boundary in a single pollOutputs() call, and bytes cross as copies.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <string>
#include <vector>

#include "kernel/node_kernel.h"

namespace {

using emscripten::val;

val bytesToJs(const std::vector<uint8_t>& bytes) {
  // new Uint8Array(view) copies, so the result outlives wasm memory growth.
  return val::global("Uint8Array").new_(emscripten::typed_memory_view(bytes.size(), bytes.data()));
}

val stringOrNull(const std::string* s) { return s ? val(*s) : val::null(); }

std::string errorOf(const pc::Result& r) { return r.ok ? std::string() : r.error; }

struct OutputToJs {
  val operator()(const pc::SendSignal& o) const {
    val v = object("signal");
    v.set("to", o.to);
    v.set("text", o.text);
    return v;
  }
  val operator()(const pc::OpenConnection& o) const {
    val v = object("open");
    v.set("peerId", o.peerId);
    v.set("initiator", o.initiator);
    return v;
  }
  val operator()(const pc::DeliverRtcSignal& o) const {
    val v = object("rtc");
    v.set("peerId", o.peerId);
    v.set("data", o.data);
    return v;
  }
  val operator()(const pc::CloseConnection& o) const {
    val v = object("close");
    v.set("peerId", o.peerId);
    return v;
  }
  val operator()(const pc::SendData& o) const {
    val v = object("send");
    v.set("peerId", o.peerId);
    v.set("bytes", bytesToJs(o.bytes));
    return v;
  }
  val operator()(const pc::PeerConnected& o) const {
    val v = object("peer-connected");
    v.set("peerId", o.peerId);
    return v;
  }
  val operator()(const pc::PeerDisconnected& o) const {
    val v = object("peer-disconnected");
    v.set("peerId", o.peerId);
    v.set("reason", o.reason);
    return v;
  }
  val operator()(const pc::StateChanged& o) const {
    val v = object("state");
    v.set("origin", o.origin);
    val changes = val::array();
    for (const pc::KeyChange& c : o.changes) {
      val change = val::object();
      change.set("key", c.key);
      change.set("value", c.value ? val(*c.value) : val::null());
      changes.call<void>("push", change);
    }
    v.set("changes", changes);
    return v;
  }
  val operator()(const pc::MessageReceived& o) const {
    val v = object("message");
    v.set("peerId", o.peerId);
    v.set("json", o.json);
    return v;
  }

  static val object(const char* type) {
    val v = val::object();
    v.set("type", std::string(type));
    return v;
  }
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
  // embind copies a Uint8Array argument into a std::string's bytes.
  void handleData(const std::string& peerId, const std::string& bytes, double now) {
    kernel_.handleData(peerId, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), now);
  }
  void handleTimeout(double now) { kernel_.handleTimeout(now); }

  std::string write(const std::string& key, const std::string& json, double now) {
    return errorOf(kernel_.write(key, json, now));
  }
  std::string remove(const std::string& key, double now) { return errorOf(kernel_.remove(key, now)); }
  std::string clear(double now) { return errorOf(kernel_.clear(now)); }
  // A batch is staged one operation per call, then committed as one transaction.
  void stageWrite(const std::string& key, const std::string& json) { staged_.emplace_back(key, json); }
  void stageDelete(const std::string& key) { staged_.emplace_back(key, std::nullopt); }
  std::string commitStaged(double now) {
    std::vector<pc::Operation> ops;
    ops.swap(staged_);
    return errorOf(kernel_.commit(ops, now));
  }
  std::string sendToPeer(const std::string& peerId, const std::string& json, double now) {
    return errorOf(kernel_.sendToPeer(peerId, json, now));
  }
  std::string broadcast(const std::string& json, double now) { return errorOf(kernel_.broadcast(json, now)); }

  val pollOutputs() {
    val out = val::array();
    while (std::optional<pc::Output> o = kernel_.pollOutput()) out.call<void>("push", std::visit(OutputToJs{}, *o));
    return out;
  }
  double pollTimeout() const {
    std::optional<double> t = kernel_.pollTimeout();
    return t ? *t : -1;
  }

  val read(const std::string& key) const { return stringOrNull(kernel_.state().get(key)); }
  std::string status() const { return kernel_.describeStatus().dump(); }
  std::string peers() const { return kernel_.describePeers().dump(); }
  // Every live entry as [[key, jsonText], ...], to fill the JS read cache.
  val entries() const {
    val out = val::array();
    kernel_.state().forEach([&](const std::string& key, const std::string& value) {
      val pair = val::array();
      pair.call<void>("push", key);
      pair.call<void>("push", value);
      out.call<void>("push", pair);
    });
    return out;
  }

 private:
  pc::NodeKernel kernel_;
  std::vector<pc::Operation> staged_;
};

}  // namespace

EMSCRIPTEN_BINDINGS(peercompute) {
  emscripten::class_<KernelBinding>("Kernel")
      .constructor<>()
      .function("initialize", &KernelBinding::initialize)
      .function("start", &KernelBinding::start)
      .function("stop", &KernelBinding::stop)
      .function("handleSignal", &KernelBinding::handleSignal)
      .function("handleLocalRtcSignal", &KernelBinding::handleLocalRtcSignal)
      .function("handleChannelOpen", &KernelBinding::handleChannelOpen)
      .function("handleChannelClosed", &KernelBinding::handleChannelClosed)
      .function("handleData", &KernelBinding::handleData)
      .function("handleTimeout", &KernelBinding::handleTimeout)
      .function("write", &KernelBinding::write)
      .function("remove", &KernelBinding::remove)
      .function("clear", &KernelBinding::clear)
      .function("stageWrite", &KernelBinding::stageWrite)
      .function("stageDelete", &KernelBinding::stageDelete)
      .function("commitStaged", &KernelBinding::commitStaged)
      .function("sendToPeer", &KernelBinding::sendToPeer)
      .function("broadcast", &KernelBinding::broadcast)
      .function("pollOutputs", &KernelBinding::pollOutputs)
      .function("pollTimeout", &KernelBinding::pollTimeout)
      .function("read", &KernelBinding::read)
      .function("status", &KernelBinding::status)
      .function("peers", &KernelBinding::peers)
      .function("entries", &KernelBinding::entries);
}
