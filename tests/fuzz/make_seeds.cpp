// Writes the seed corpora of the fuzz harnesses: small, meaningful inputs in
// each harness's input format (see the comment at the top of each harness).
// Run by `scripts/fuzz.sh --seeds`; it writes files named seed-* into
// <dir>/<harness>/, replacing earlier seeds and leaving every other file (the
// inputs that fuzzing found and merged) alone. Seeds come from the codecs
// themselves, so they follow the wire format when it changes.
//
// Usage: fuzz_make_seeds <corpus dir>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "compute/task_data.h"
#include "signaling/signal_codec.h"
#include "wire/byte_codec.h"
#include "wire/frame_codec.h"

using namespace pc;
namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

namespace {

fs::path root;
int written = 0;

void put(const std::string& harness, const std::string& name, const std::string& bytes) {
  fs::path dir = root / harness;
  fs::create_directories(dir);
  std::ofstream out(dir / ("seed-" + name), std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ++written;
}
void put(const std::string& harness, const std::string& name, const Bytes& bytes) {
  put(harness, name, std::string(bytes.begin(), bytes.end()));
}
std::string str(const Bytes& b) { return std::string(b.begin(), b.end()); }

Write w(std::string key, std::optional<std::string> value, uint64_t wall, uint64_t replica, uint64_t seq,
        uint32_t logical = 0) {
  return Write{std::move(key), std::move(value), Stamp{wall, logical, replica}, seq};
}

std::string cbor(const nlohmann::json& j) { return encodeTaskData(j); }

// A StateAck with a root made up from this vector (the frame carries only
// the fingerprint's root).
wire::StateAck stateAck(const StateVector& seen) {
  Digest128 root;
  for (const auto& [replica, seq] : seen) root.hi = root.hi * 31 + replica, root.lo = root.lo * 31 + seq;
  return wire::StateAck{root};
}

// ---- frame_decoder: one encoded frame of every type, and a few variants ----

std::vector<std::pair<std::string, wire::Frame>> sampleFrames() {
  const std::string primes = cbor({{"from", 0}, {"to", 100}});
  return {
      {"hello", wire::Hello{"a", 1, "default", ""}},
      {"hello-sealed", wire::Hello{"node-b", 9007199254740991ull, "[\"game\",\"room\"]", std::string(16, '\x5a')}},
      {"sync-request", wire::SyncRequest{{{1, 3}, {2, 5}}}},
      {"sync-request-empty", wire::SyncRequest{}},
      {"sync-response",
       wire::SyncResponse{{{1, 3}, {2, 1}, {7, 9}},
                          {w("k1", "1", 1000, 1, 1), w("k2", std::nullopt, 1005, 1, 3, 2),
                           w("k3", "{\"x\":[1,2.5,null]}", 990, 2, 1)}}},
      {"sync-response-empty", wire::SyncResponse{{{4, 2}}, {}}},
      {"update", wire::Update{{w("key", "\"value\"", 1700000000000ull, 3, 12)}}},
      {"update-transaction",
       wire::Update{{w("a", "true", 50, 2, 4), w("b", std::nullopt, 50, 2, 5), w("c", "[]", 50, 2, 6)}}},
      {"app-message", wire::AppMessage{"{\"hello\":\"world\"}"}},
      {"ping", wire::Ping{7}},
      {"pong", wire::Pong{UINT64_MAX}},
      {"fragment", wire::Fragment{1, 0, 2, str(wire::encode(wire::Ping{1})).substr(0, 3)}},
      {"state-ack", stateAck({{1, 2}, {3, 100000}})},
      {"presence", wire::Presence{"{\"cursor\":[1,2]}"}},
      {"presence-null", wire::Presence{"null"}},
      {"binary-message", wire::BinaryMessage{std::string("\x00\x01\xff\xc5", 4)}},
      {"auth", wire::Auth{std::string(32, '\x11')}},
      {"capabilities", wire::Capabilities{2, {"mandelbrot", "countPrimes"}}},
      {"work-assign", wire::WorkAssign{5, "countPrimes", primes}},
      {"work-result-ok", wire::WorkResult{5, true, cbor(25)}},
      {"work-result-error", wire::WorkResult{5, false, "task failed: bad input"}},
      {"work-cancel", wire::WorkCancel{5}},
      {"state-ack-no-root", wire::StateAck{}},
      {"reconcile-nodes", wire::ReconcileNodes{1, {{0, Digest128{1, 2}}, {15, Digest128{3, 4}}}}},
      {"reconcile-entries", wire::ReconcileEntries{false, {{7, {Digest128{5, 6}}}}}},
      {"sync-writes", wire::SyncWrites{{w("k1", "1", 1000, 1, 1), w("k2", std::nullopt, 1005, 1, 3, 2)}}},
      {"own-update", wire::OwnUpdate{{w("k1", "[1,2]", 1000, 0, 4), w("k2", std::nullopt, 1000, 0, 5, 1)}}},
  };
}

// A default-constructed frame of every type that sampleFrames() has no sample
// of, so that a frame type added later gets a seed too.
template <size_t... I>
void defaultFrames(const std::vector<std::pair<std::string, wire::Frame>>& samples, std::index_sequence<I...>) {
  auto one = [&](auto alternative) {
    wire::Frame frame = alternative;
    for (const auto& s : samples)
      if (s.second.index() == frame.index()) return;
    put("frame_decoder", "default-type-" + std::to_string(frame.index() + 1), wire::encode(frame));
  };
  (one(std::variant_alternative_t<I, wire::Frame>{}), ...);
}

void frameDecoder() {
  const auto samples = sampleFrames();
  for (const auto& [name, frame] : samples) put("frame_decoder", name, wire::encode(frame));
  defaultFrames(samples, std::make_index_sequence<std::variant_size_v<wire::Frame>>{});
}

// ---- fragment_assembler: scripts ----

// A raw-fragment op: c (messageId in bits 2-3, kind 0), idx, cnt, len, piece.
std::string rawOp(uint8_t messageId, uint8_t idx, uint8_t cnt, const std::string& piece) {
  std::string op;
  op += static_cast<char>((messageId & 3) << 2);
  op += static_cast<char>(idx);
  op += static_cast<char>(cnt);
  op += static_cast<char>(piece.size());
  return op + piece;
}
// A well-formed op: c = 3, t, p, len, payload.
std::string wellFormedOp(uint8_t t, uint8_t p, const std::string& payload) {
  std::string op = "\x03";
  op += static_cast<char>(t);
  op += static_cast<char>(p);
  op += static_cast<char>(payload.size());
  return op + payload;
}

void fragmentAssembler() {
  const std::string inner = str(wire::encode(wire::BinaryMessage{std::string(60, 'm')}));
  const std::string update = str(wire::encode(wire::Update{{w("key", "\"a longer value, to split\"", 10, 1, 1)}}));
  put("fragment_assembler", "well-formed-binary", wellFormedOp(0, 20, std::string(80, 'x')));
  put("fragment_assembler", "well-formed-json", wellFormedOp(5, 3, "payload"));
  put("fragment_assembler", "raw-two-pieces", rawOp(1, 0, 2, inner.substr(0, 30)) + rawOp(1, 1, 2, inner.substr(30)));
  put("fragment_assembler", "raw-three-pieces-update",
      rawOp(2, 0, 3, update.substr(0, 16)) + rawOp(2, 1, 3, update.substr(16, 10)) + rawOp(2, 2, 3, update.substr(26)));
  put("fragment_assembler", "out-of-sequence", rawOp(0, 1, 3, "xyz") + wellFormedOp(2, 9, "after"));
  put("fragment_assembler", "interrupted",
      rawOp(1, 0, 2, inner.substr(0, 30)) + rawOp(2, 0, 2, inner.substr(0, 30)) + rawOp(2, 1, 2, inner.substr(30)));
  put("fragment_assembler", "too-short-pieces", rawOp(3, 0, 2, inner.substr(0, 20)) + rawOp(3, 1, 2, "end"));
  const std::string nested = str(wire::encode(wire::Fragment{9, 0, 2, inner}));
  put("fragment_assembler", "nested", rawOp(0, 0, 2, nested.substr(0, 40)) + rawOp(0, 1, 2, nested.substr(40)));
  const std::string big = str(wire::encode(wire::BinaryMessage{std::string(600, 'b')}));
  put("fragment_assembler", "over-limit", rawOp(1, 0, 3, big.substr(0, 200)));
}

// ---- signal_codec: envelopes ----

void signalCodec() {
  put("signal_codec", "announce", encodeSignal({SignalType::Announce, "default", "a", "", "", 3}));
  put("signal_codec", "announce-to", encodeSignal({SignalType::Announce, "[\"game\",\"room\"]", "node-1", "node_2", "", 1700000000000ull}));
  put("signal_codec", "leave", encodeSignal({SignalType::Leave, "default", "b", "", "", 0}));
  put("signal_codec", "rtc-offer",
      encodeSignal({SignalType::Rtc, "default", "a", "b", R"({"sdp":{"type":"offer","sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}})", 2}));
  put("signal_codec", "rtc-candidate",
      encodeSignal({SignalType::Rtc, "default", "b", "a",
                    R"({"candidate":{"candidate":"candidate:1 1 udp 2122260223 10.0.0.1 54321 typ host","sdpMid":"0","sdpMLineIndex":0}})", 5}));
  put("signal_codec", "unicode-room", std::string(R"({"v":1,"t":"announce","room":"caf\u00e9 \ud83d\ude00","from":"x"})"));
  put("signal_codec", "wrong-version", std::string(R"({"v":2,"t":"announce","room":"default","from":"x"})"));
  put("signal_codec", "rtc-without-data", std::string(R"({"v":1,"t":"rtc","room":"default","from":"x","to":"a"})"));
}

// ---- server_message: control byte + text, separated by 0x00 ----

const std::string kTag = "0123456789abcdef0123456789abcdef";

std::string segments(const std::vector<std::pair<uint8_t, std::string>>& parts) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += '\0';
    out += static_cast<char>(parts[i].first);
    out += parts[i].second;
  }
  return out;
}

void serverMessage() {
  nlohmann::json offer = {{"type", "OFFER"}, {"src", kTag + ".b"},
                          {"payload", encodeSignal({SignalType::Announce, "default", "b", "n", "", 1})}};
  nlohmann::json answer = {{"type", "ANSWER"}, {"src", kTag + ".b.2"},
                           {"payload", encodeSignal({SignalType::Rtc, "default", "b", "n", R"({"sdp":{"type":"answer","sdp":""}})", 1})}};
  nlohmann::json expire = {{"type", "EXPIRE"}, {"src", kTag + ".c"}};
  nlohmann::json leave = {{"type", "LEAVE"}, {"src", kTag + ".c"}, {"payload", nullptr}};
  const std::string listing = nlohmann::json::array({kTag + ".a", kTag + ".b.1", kTag + ".n", "other.c", 5}).dump();
  put("server_message", "open-heartbeats", segments({{0x07, R"({"type":"OPEN"})"}, {0x0c, R"({"type":"HEARTBEAT"})"}, {0x0e, ""}}));
  put("server_message", "open-relay", segments({{0x01, R"({"type":"OPEN"})"}, {0x03, offer.dump()}, {0x03, answer.dump()},
                                               {0x05, expire.dump()}, {0x05, leave.dump()}}));
  put("server_message", "relay-before-open", segments({{0x02, offer.dump()}, {0x0d, ""}}));
  put("server_message", "id-taken", segments({{0x00, R"({"type":"ID-TAKEN","payload":{"msg":"ID is taken"}})"},
                                             {0x20, R"({"type":"OPEN"})"}, {0x07, ""}}));
  put("server_message", "error-reconnect",
      segments({{0x00, R"({"type":"ERROR","payload":{"msg":"Invalid key provided"}})"}, {0x07, ""}, {0x27, ""},
                {0x09, ""}, {0x20, R"({"type":"OPEN"})"}}));
  put("server_message", "grace-then-close", segments({{0x0a, ""}, {0x4b, ""}, {0x0e, ""}, {0x20, ""}}));
  put("server_message", "listing", segments({{0x81, R"({"type":"OPEN"})"}, {0x80, listing}}));
  put("server_message", "bad-messages",
      segments({{0x01, "not json"}, {0x01, "[1,2]"}, {0x01, R"({"type":5})"}, {0x01, R"({"type":"OFFER"})"},
                {0x01, R"({"type":"OFFER","src":"x","payload":{}})"}, {0x01, R"({"type":"SHOUT"})"}}));
}

// ---- task_data: CBOR values ----

void taskData() {
  put("task_data", "uint", cbor(42));
  put("task_data", "uint64", cbor(UINT64_MAX));
  put("task_data", "negative", cbor(-1000000));
  put("task_data", "float", cbor(1.5));
  put("task_data", "double", cbor(0.1));
  put("task_data", "text", cbor("h\xc3\xa9llo"));
  put("task_data", "literals", cbor({true, false, nullptr}));
  put("task_data", "countPrimes-input", cbor({{"from", 0}, {"to", 100}}));
  put("task_data", "mandelbrot-input",
      cbor({{"x0", -2.0}, {"y0", -1.0}, {"dx", 0.01}, {"dy", 0.01}, {"width", 8}, {"height", 4}, {"maxIter", 64}}));
  put("task_data", "uint32array", cbor(uint32Array({1, 2, 3, 0xffffffffu})));
  put("task_data", "nested", cbor({{"a", {1, {{"b", nullptr}}}}, {"c", nlohmann::json::array()}, {"d", nlohmann::json::object()}}));
  put("task_data", "binary", cbor(nlohmann::json::binary({1, 2, 3})));
  // Hand-written: a float16, a Float64Array tag (86) and a deep array.
  put("task_data", "half-float", std::string("\xf9\x3c\x00", 3));
  put("task_data", "float64array", std::string("\xd8\x56\x48", 3) + std::string(8, '\x01'));
  put("task_data", "deep", std::string(20, '\x81') + "\x00");
}

// ---- json_text: JSON texts ----

void jsonText() {
  put("json_text", "object", R"({"a":[1,2.5,-3e4,true,false,null],"b":{"c":"d\u00e9\ud83d\ude00"}})");
  put("json_text", "spaced", " [ [ ] , { \"k\" : [ 1 ] } ]\n");
  put("json_text", "escapes", R"("\"\\\/\b\f\n\r\t é")");
  put("json_text", "numbers", "[0,-0,1e308,1e-400,123456789012345678901234567890,1.7976931348623157e308]");
  put("json_text", "deep", std::string(64, '[') + std::string(64, ']'));
  put("json_text", "bom", "\xEF\xBB\xBF{}");
}

// ---- kernel_peer: chunks of frames from m ----

// A chunk whose bytes are type + body (ctl bit 7): the harness adds the rest
// of the header. ctl: target (0-3), delay index (0-7), honest writes.
std::string chunk(const wire::Frame& frame, uint8_t target, uint8_t delay, bool writes) {
  Bytes encoded = wire::encode(frame);
  wire::DecodeError error;
  auto h = wire::peekHeader(encoded.data(), encoded.size(), wire::Limits{}, &error);
  std::string body(encoded.begin() + static_cast<std::ptrdiff_t>(h->headerBytes), encoded.end());
  std::string bytes = std::string(1, static_cast<char>(encoded[2])) + body;
  uint8_t ctl = static_cast<uint8_t>((target & 3) | ((delay & 7) << 2) | (writes ? 0x20 : 0) | 0x80);
  std::string out(1, static_cast<char>(ctl | (bytes.size() > 255 ? 0x40 : 0)));
  out += static_cast<char>(bytes.size() & 0xff);
  if (bytes.size() > 255) out += static_cast<char>(bytes.size() >> 8);
  return out + bytes;
}
// A chunk of raw bytes, header and all.
std::string rawChunk(const Bytes& bytes, uint8_t target, uint8_t delay, bool writes) {
  uint8_t ctl = static_cast<uint8_t>((target & 3) | ((delay & 7) << 2) | (writes ? 0x20 : 0));
  std::string out(1, static_cast<char>(ctl | (bytes.size() > 255 ? 0x40 : 0)));
  out += static_cast<char>(bytes.size() & 0xff);
  if (bytes.size() > 255) out += static_cast<char>(bytes.size() >> 8);
  return out + str(bytes);
}

// A chunk that breaks the channel between two honest nodes (pair 0 a-b,
// 1 b-c, 2 a-c): bit 7 and no bytes.
std::string breakChunk(uint8_t pair, uint8_t delay, bool writes) {
  uint8_t ctl = static_cast<uint8_t>((pair & 3) | ((delay & 7) << 2) | (writes ? 0x20 : 0) | 0x80);
  return std::string(1, static_cast<char>(ctl)) + std::string(1, '\0');
}

void kernelPeer() {
  const uint64_t m = 4;  // m's replica id: the fourth node of the mesh
  const std::string K = "kernel_peer";
  put(K, "honest-writes-only", chunk(wire::Ping{1}, 3, 3, true) + chunk(wire::Ping{2}, 3, 4, true));
  put(K, "update-to-all", chunk(wire::Update{{w("x", "1", 100, m, 1)}}, 3, 3, true));
  put(K, "update-to-one", chunk(wire::Update{{w("s/0", "\"m\"", 100, m, 1)}}, 0, 5, true));
  put(K, "updates-in-turn",
      chunk(wire::Update{{w("k", "1", 50, m, 1)}}, 0, 2, true) + chunk(wire::Update{{w("k", "2", 60, m, 2)}}, 1, 2, false) +
          chunk(wire::Update{{w("k", std::nullopt, 70, m, 3)}}, 2, 4, true));
  put(K, "delete-shared", chunk(wire::Update{{w("s/1", std::nullopt, 200, m, 1)}}, 3, 1, true));
  put(K, "sync-response", chunk(wire::SyncResponse{{{m, 2}}, {w("y", "[1]", 90, m, 1), w("z", "{}", 91, m, 2)}}, 1, 3, true));
  put(K, "sync-request", chunk(wire::SyncRequest{{{1, 0}}}, 0, 3, true) + chunk(wire::SyncRequest{}, 2, 3, false));
  put(K, "state-ack", chunk(stateAck({{1, 1}, {2, 1}, {3, 1}}), 3, 3, true));
  put(K, "messages",
      chunk(wire::AppMessage{"{\"chat\":\"hi\"}"}, 0, 1, false) + chunk(wire::BinaryMessage{"\x01\x02"}, 1, 1, false) +
          chunk(wire::Presence{"{\"x\":1}"}, 2, 1, true) + chunk(wire::Presence{"null"}, 2, 1, false));
  put(K, "pings", chunk(wire::Ping{9}, 3, 0, false) + chunk(wire::Pong{9}, 3, 6, true));
  put(K, "handshake-frames", chunk(wire::Hello{"m", m, "default", ""}, 0, 1, false) +
                                 chunk(wire::Auth{std::string(32, 'p')}, 1, 1, true));
  put(K, "compute", chunk(wire::Capabilities{1, {"countPrimes"}}, 3, 1, false) +
                        chunk(wire::WorkAssign{1, "countPrimes", cbor({{"from", 0}, {"to", 50}})}, 0, 7, true) +
                        chunk(wire::WorkResult{1, true, cbor(15)}, 1, 1, false) + chunk(wire::WorkCancel{1}, 0, 1, true));
  const Bytes inner = wire::encode(wire::Update{{w("frag", "\"a value split over two fragments\"", 300, m, 1)}});
  auto pieces = wire::fragment(inner, 77, inner.size() / 2 + 1);
  put(K, "fragments", rawChunk(pieces[0], 2, 0, false) + rawChunk(pieces[1], 2, 3, true));
  put(K, "honest-link-breaks", breakChunk(0, 3, true) + chunk(wire::Ping{3}, 3, 7, true) + breakChunk(1, 7, true) +
                                   breakChunk(2, 5, true) + chunk(wire::Update{{w("q", "1", 400, m, 1)}}, 3, 7, true));
  put(K, "state-ack-while-broken", breakChunk(0, 3, true) + chunk(stateAck({{1, 5}, {2, 5}}), 2, 6, true));
  put(K, "garbage", rawChunk({wire::kMagic, wire::kVersion, 0x04, 0x05, 0x00}, 3, 2, true) + rawChunk({}, 0, 1, false));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  root = argv[1];
  // Replace the old seeds, keep what fuzzing merged.
  if (fs::exists(root))
    for (const auto& dir : fs::directory_iterator(root))
      if (dir.is_directory())
        for (const auto& f : fs::directory_iterator(dir.path()))
          if (f.path().filename().string().rfind("seed-", 0) == 0) fs::remove(f.path());
  frameDecoder();
  fragmentAssembler();
  signalCodec();
  serverMessage();
  taskData();
  jsonText();
  kernelPeer();
  std::printf("wrote %d seeds under %s\n", written, root.c_str());
  return 0;
}
