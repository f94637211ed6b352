#include "signaling/signal_codec.h"

#include <nlohmann/json.hpp>

namespace pc {

using nlohmann::json;

namespace {
const char* typeName(SignalType t) {
  switch (t) {
    case SignalType::Announce: return "announce";
    case SignalType::Leave: return "leave";
    case SignalType::Rtc: return "rtc";
  }
  return "";
}

bool stringField(const json& j, const char* name, std::string* out, bool required) {
  auto it = j.find(name);
  if (it == j.end()) return !required;
  if (!it->is_string()) return false;
  *out = it->get<std::string>();
  return true;
}
}  // namespace

bool isValidNodeId(std::string_view id) {
  return !id.empty() && id.size() <= 64 && id.find_first_not_of(kNodeIdCharacters) == std::string_view::npos;
}

std::string encodeSignal(const Signal& s) {
  json j = {{"v", 2},           {"t", typeName(s.type)}, {"room", s.room}, {"from", s.from},
            {"inc", s.incarnation}, {"ts", s.sentAt},        {"n", s.counter}};
  if (!s.to.empty()) j["to"] = s.to;
  if (s.type == SignalType::Rtc) j["data"] = json::parse(s.data, nullptr, false);
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<Signal> decodeSignal(std::string_view text, std::string* error) {
  auto fail = [&](const char* why) -> std::optional<Signal> {
    if (error) *error = why;
    return std::nullopt;
  };
  if (text.size() > kMaxSignalBytes) return fail("signal too large");
  json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail("signal is not a JSON object");
  auto v = j.find("v");
  if (v == j.end() || !v->is_number_integer() || v->get<int64_t>() != 2) return fail("unsupported signal version");

  Signal s;
  std::string type;
  if (!stringField(j, "t", &type, true)) return fail("signal has no type");
  if (type == "announce") s.type = SignalType::Announce;
  else if (type == "leave") s.type = SignalType::Leave;
  else if (type == "rtc") s.type = SignalType::Rtc;
  else return fail("unknown signal type");

  if (!stringField(j, "room", &s.room, true)) return fail("signal has no room");
  if (!stringField(j, "from", &s.from, true) || !isValidNodeId(s.from)) return fail("signal has an invalid sender id");
  if (!stringField(j, "to", &s.to, false) || (!s.to.empty() && !isValidNodeId(s.to)))
    return fail("signal has an invalid recipient id");
  auto unsignedField = [&](const char* name, uint64_t* out) {
    auto it = j.find(name);
    if (it == j.end() || !it->is_number_unsigned()) return false;
    *out = it->get<uint64_t>();
    return true;
  };
  if (!unsignedField("inc", &s.incarnation)) return fail("signal has no valid incarnation");
  if (!unsignedField("ts", &s.sentAt) || !unsignedField("n", &s.counter)) return fail("signal has no valid time and counter");
  if (s.type == SignalType::Rtc) {
    auto d = j.find("data");
    if (d == j.end() || !d->is_object()) return fail("rtc signal has no data object");
    if (s.to.empty()) return fail("rtc signal has no recipient");
    s.data = d->dump(-1, ' ', false, json::error_handler_t::replace);
  }
  return s;
}

}  // namespace pc
