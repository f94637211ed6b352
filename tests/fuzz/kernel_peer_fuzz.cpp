// Fuzzes a whole kernel against a malicious peer, with an integrity oracle.
//
// A simulated mesh (tests/support/simulated_network) of three honest nodes
// a, b, c and a fourth node m, all connected. The input is a sequence of raw
// frames that m sends down its open channels, interleaved with honest writes;
// then m crashes, each honest node writes one last key, and the network runs
// on for 30 simulated seconds.
//
// Input: chunks, each:
//   ctl        bits 0-1  who gets the frame: a, b, c, or (3) all three
//              bits 2-4  how long the network runs after it (kDelays)
//              bit 5     a, b and c each write this step (see honestWrites)
//              bit 6     the length below is two bytes (little-endian)
//              bit 7     the bytes are type + body: the harness adds magic,
//                        version and the body's length (so the fuzzer need not)
//   length     one byte, or two with bit 6
//   bytes      `length` bytes (fewer if the input ends)
// A frame reaches a node's handleData("m", ...) exactly as in
// tests/robustness_test.cpp, and only while that node has m connected.
// A chunk with bit 7 and no bytes sends no frame: it breaks the channel
// between two honest nodes instead (bits 0-1: a-b, b-c, a-c, or none), as a
// failed ICE connection would, so that honest writes must travel by sync
// (state vectors) once the pair reconnects.
//
// The oracle. Any room member may write any key, so what m writes may
// legitimately win; but m cannot stop honest nodes from agreeing, nor lose
// their writes to keys it never touched. After the final run (checked in the
// order ii, iii, i, so that the most specific failure is the one reported):
//  (i)   a, b and c hold identical visible state;
//  (ii)  each honest node's final key ("final/<node>", written after m
//        crashed) is at all three with its value;
//  (iii) every honest write to a key that no frame from m ever named
//        ("b/<step>", "c/<step>") is at all three with its value.
// Frames from m that would write a "final/" key (directly or reassembled from
// fragments) are not delivered, so (ii) stays sound.
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "support/peer_view.h"
#include "support/simulated_network.h"
#include "wire/byte_codec.h"
#include "wire/fragment_assembler.h"
#include "wire/frame_codec.h"

using namespace pc;

namespace {

constexpr Millis kDelays[8] = {0, 1, 5, 10, 20, 50, 100, 300};
constexpr int kMaxSteps = 32;
constexpr Millis kFinalRun = 30'000;
const char* const kHonest[] = {"a", "b", "c"};

struct Input {
  const uint8_t* p;
  const uint8_t* end;
  bool done() const { return p == end; }
  uint8_t byte() { return p == end ? 0 : *p++; }
  std::vector<uint8_t> bytes(size_t n) {
    n = std::min<size_t>(n, static_cast<size_t>(end - p));
    std::vector<uint8_t> out(p, p + n);
    p += n;
    return out;
  }
};

std::string typeName(size_t index) {
  static const char* names[] = {"Hello",        "SyncRequest", "SyncResponse", "Update",     "AppMessage", "Ping",
                                "Pong",         "Fragment",    "StateAck",     "Presence",   "BinaryMessage", "Auth",
                                "Capabilities", "WorkAssign",  "WorkResult",   "WorkCancel", "ReconcileNodes",
                                "ReconcileEntries", "SyncWrites", "OwnUpdate"};
  if (index < sizeof(names) / sizeof(names[0])) return names[index];
  return "frame type " + std::to_string(index + 1);
}

// The keys a frame writes or deletes; true if one is a "final/" key.
bool keysOf(const wire::Frame& f, std::set<std::string>* keys) {
  const std::vector<Write>* writes = nullptr;
  if (auto* u = std::get_if<wire::Update>(&f)) writes = &u->writes;
  if (auto* s = std::get_if<wire::SyncResponse>(&f)) writes = &s->writes;
  if (auto* s = std::get_if<wire::SyncWrites>(&f)) writes = &s->writes;
  if (auto* o = std::get_if<wire::OwnUpdate>(&f)) writes = &o->writes;
  if (!writes) return false;
  bool forbidden = false;
  for (const Write& w : *writes) {
    keys->insert(w.key);
    if (w.key.rfind("final/", 0) == 0) forbidden = true;
  }
  return forbidden;
}

// What the honest node's assembler for m holds, mirrored, so that a "final/"
// write split into fragments is caught too.
struct Mirror {
  Millis connectedAt = -1;
  wire::FragmentAssembler assembler;
};

std::string describe(const std::map<std::string, std::string>& state) {
  std::string out;
  for (const auto& [k, v] : state) {
    if (out.size() > 600) return out + " ...";
    out += "\n      " + k + " = " + v;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pcsim::SimulatedNetwork net;
  FUZZ_CHECK(net.startMesh({"a", "b", "c", "m"}), "the mesh did not form");

  Input in{data, data + size};
  std::map<std::string, Mirror> mirrors;
  std::set<std::string> touched;                 // keys named in frames from m
  std::map<std::string, std::string> unique;     // key -> value, keys only one honest write names
  std::string trace;                             // what m sent, for a failure report

  for (int step = 0; step < kMaxSteps && !in.done(); ++step) {
    const uint8_t ctl = in.byte();
    size_t length = in.byte();
    if (ctl & 0x40) length |= static_cast<size_t>(in.byte()) << 8;
    std::vector<uint8_t> bytes = in.bytes(length);
    if ((ctl & 0x80) && bytes.empty()) {
      static const char* const pairs[3][2] = {{"a", "b"}, {"b", "c"}, {"a", "c"}};
      if ((ctl & 3) != 3) {
        net.breakConnection(pairs[ctl & 3][0], pairs[ctl & 3][1]);
        trace += "\n    step " + std::to_string(step) + ": break " + pairs[ctl & 3][0] + "-" + pairs[ctl & 3][1];
      }
    } else if (ctl & 0x80) {
      wire::ByteWriter w;
      w.u8(wire::kMagic);
      w.u8(wire::kVersion);
      w.u8(bytes[0]);
      w.varuint(bytes.size() - 1);
      w.raw(bytes.data() + 1, bytes.size() - 1);
      bytes = w.take();
    }

    for (int t = 0; t < 3; ++t) {
      if ((ctl & 0x80) && bytes.empty()) break;
      if ((ctl & 3) != 3 && (ctl & 3) != t) continue;
      const std::string node = kHonest[t];
      NodeKernel& k = net.kernel(node);
      const std::optional<pcsim::PeerView> m = pcsim::peerOf(k, "m");
      if (!m || m->state != PeerState::Connected) continue;
      const wire::Limits limits{k.config().maxFrameBytes};
      Mirror& mirror = mirrors[node];
      if (mirror.connectedAt != m->connectedAt) mirror = Mirror{m->connectedAt, wire::FragmentAssembler(limits)};

      std::set<std::string> keys;
      bool forbidden = false;
      std::string kind = "undecodable";
      wire::FragmentAssembler next = mirror.assembler;
      wire::Decoded d = wire::decode(bytes, limits);
      if (d.frame) {
        kind = typeName(d.frame->index());
        if (auto* f = std::get_if<wire::Fragment>(&*d.frame)) {
          std::vector<uint8_t> whole;
          if (next.add(*f, &whole) == wire::FragmentAssembler::Result::Complete) {
            wire::Decoded inner = wire::decode(whole, limits);
            if (inner.frame) {
              kind += "(" + typeName(inner.frame->index()) + ")";
              forbidden = keysOf(*inner.frame, &keys);
            }
          }
        } else {
          forbidden = keysOf(*d.frame, &keys);
        }
      }
      if (forbidden) continue;
      mirror.assembler = std::move(next);
      touched.insert(keys.begin(), keys.end());
      trace += "\n    step " + std::to_string(step) + ": m -> " + node + " " + kind + " (" +
               std::to_string(bytes.size()) + " bytes)";
      net.input(node, [&](NodeKernel& kernel, Millis now) { kernel.handleData("m", bytes.data(), bytes.size(), now); });
    }

    if (ctl & 0x20) {
      // Shared keys that honest nodes contend for (and c deletes), and keys
      // that only one honest write names.
      const std::string n = std::to_string(step);
      net.write("a", "s/" + std::to_string(step % 3), n);
      net.write("b", "b/" + n, n);
      net.commit("c", {{"c/" + n, n}, {"s/" + std::to_string((step + 1) % 3), std::nullopt}});
      unique["b/" + n] = n;
      unique["c/" + n] = n;
    }
    net.runFor(kDelays[(ctl >> 2) & 7]);
  }

  net.crash("m", pcsim::CrashMode::ClosesChannels);
  for (const char* node : kHonest) {
    Result r = net.write(node, std::string("final/") + node, std::string("\"") + node + "\"");
    FUZZ_CHECK(r.ok, "%s could not write its final key: %s", node, r.error.c_str());
  }
  net.runFor(kFinalRun);

  const auto a = pcsim::contents(net.kernel("a").state());
  const auto b = pcsim::contents(net.kernel("b").state());
  const auto c = pcsim::contents(net.kernel("c").state());
  for (const char* writer : kHonest) {
    const std::string key = std::string("final/") + writer;
    const std::string value = std::string("\"") + writer + "\"";
    for (const char* holder : kHonest) {
      const std::string* held = net.kernel(holder).state().get(key);
      FUZZ_CHECK(held && *held == value, "(ii) %s lacks %s's final write (%s)\n  m sent:%s", holder, writer,
                 held ? held->c_str() : "absent", trace.c_str());
    }
  }
  for (const auto& [key, value] : unique) {
    if (touched.count(key)) continue;
    for (const char* holder : kHonest) {
      const std::string* held = net.kernel(holder).state().get(key);
      FUZZ_CHECK(held && *held == value, "(iii) %s lacks the honest write %s = %s (holds %s)\n  m sent:%s", holder,
                 key.c_str(), value.c_str(), held ? held->c_str() : "nothing", trace.c_str());
    }
  }
  FUZZ_CHECK(a == b && b == c, "(i) the honest nodes disagree after m crashed\n  m sent:%s\n  a:%s\n  b:%s\n  c:%s",
             trace.c_str(), describe(a).c_str(), describe(b).c_str(), describe(c).c_str());
  return 0;
}
