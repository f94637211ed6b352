#include "compute/task_data.h"

#include "state/json_text.h"

namespace pc {

namespace {

size_t elementSize(uint64_t tag) {
  for (const TypedArrayTag& t : kTypedArrayTags)
    if (t.tag == tag) return t.elementBytes;
  return 0;
}

class Checker {
 public:
  explicit Checker(std::string_view b) : p_(reinterpret_cast<const uint8_t*>(b.data())), end_(p_ + b.size()) {}

  std::string run() {
    item(0);
    if (error_.empty() && p_ != end_) error_ = "bytes after the value";
    return error_;
  }

 private:
  bool fail(const char* why) {
    if (error_.empty()) error_ = why;
    return false;
  }
  size_t left() const { return static_cast<size_t>(end_ - p_); }

  // Reads an item's head: its major type and argument.
  bool head(uint8_t* major, uint64_t* arg) {
    if (left() < 1) return fail("truncated");
    uint8_t b = *p_++;
    *major = b >> 5;
    uint8_t info = info_ = b & 31;
    if (info < 24) {
      *arg = info;
      return true;
    }
    if (info > 27) return fail(info == 31 ? "indefinite lengths are not allowed" : "reserved additional information");
    size_t n = size_t{1} << (info - 24);
    if (left() < n) return fail("truncated");
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | *p_++;
    *arg = v;
    // Shortest form only (RFC 8949, section 4.2.1), so one value has one
    // encoding and results compare byte for byte. A float's width is its
    // type, not a length, and is exempt.
    static constexpr uint64_t kSmallest[] = {24, 256, 65536, uint64_t{1} << 32};
    if (*major != 7 && v < kSmallest[info - 24]) return fail("a head is not in its shortest form");
    return true;
  }

  bool bytes(uint64_t n, std::string_view* out) {
    if (n > left()) return fail("a length runs past the end");
    *out = std::string_view(reinterpret_cast<const char*>(p_), static_cast<size_t>(n));
    p_ += n;
    return true;
  }

  bool item(size_t depth) {
    if (depth > kMaxTaskDataDepth) return fail("nested too deeply");
    uint8_t major;
    uint64_t arg;
    if (!head(&major, &arg)) return false;
    std::string_view s;
    switch (major) {
      case 0: return true;
      // nlohmann holds negative integers as int64_t.
      case 1: return arg < (uint64_t{1} << 63) || fail("an integer below -2^63");
      case 2: return bytes(arg, &s);
      case 3: return bytes(arg, &s) && (isValidUtf8(s) || fail("a text string is not valid UTF-8"));
      case 4:
        // Each item takes at least a byte: a count beyond that is forged.
        if (arg > left()) return fail("a length runs past the end");
        for (uint64_t i = 0; i < arg; ++i)
          if (!item(depth + 1)) return false;
        return true;
      case 5:
        if (arg > left() / 2) return fail("a length runs past the end");
        for (uint64_t i = 0; i < arg; ++i) {
          if (left() < 1 || (*p_ >> 5) != 3) return fail("a map key is not a text string");
          if (!item(depth + 1) || !item(depth + 1)) return false;
        }
        return true;
      case 6: {
        size_t size = elementSize(arg);
        if (size == 0) return fail("an unsupported tag");
        uint8_t innerMajor;
        uint64_t n;
        if (!head(&innerMajor, &n)) return false;
        if (innerMajor != 2) return fail("a typed array tag must wrap a byte string");
        if (n % size != 0) return fail("a typed array's length is not a multiple of its element size");
        return bytes(n, &s);
      }
      default:  // 7
        if (info_ >= 25) return true;  // a float: its bits were the argument
        if (info_ < 24 && arg >= 20 && arg <= 22) return true;  // false, true, null
        return fail("an unsupported simple value");
    }
  }

  const uint8_t* p_;
  const uint8_t* end_;
  std::string error_;
  uint8_t info_ = 0;  // of the last head read
};

}  // namespace

bool isTypedArrayTag(uint64_t tag) { return elementSize(tag) != 0; }

nlohmann::json describeTaskDataTags() {
  nlohmann::json tags = nlohmann::json::object();
  for (const TypedArrayTag& t : kTypedArrayTags) tags[t.name] = {{"tag", t.tag}, {"elementBytes", t.elementBytes}};
  return tags;
}

std::string checkTaskData(std::string_view bytes) { return Checker(bytes).run(); }

std::optional<nlohmann::json> parseTaskData(std::string_view bytes) {
  if (!checkTaskData(bytes).empty()) return std::nullopt;
  nlohmann::json j = nlohmann::json::from_cbor(bytes.begin(), bytes.end(), true, false,
                                               nlohmann::json::cbor_tag_handler_t::store);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::string encodeTaskData(const nlohmann::json& value) {
  std::string out;
  nlohmann::json::to_cbor(value, out);
  return out;
}

nlohmann::json uint32Array(const std::vector<uint32_t>& values) {
  std::vector<uint8_t> bytes(values.size() * 4);
  for (size_t i = 0; i < values.size(); ++i)
    for (int b = 0; b < 4; ++b) bytes[4 * i + b] = static_cast<uint8_t>(values[i] >> (8 * b));
  return nlohmann::json::binary(std::move(bytes), kTagUint32Array);
}

}  // namespace pc
