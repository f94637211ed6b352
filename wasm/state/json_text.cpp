#include "state/json_text.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace pc {

bool isValidUtf8(std::string_view s) {
  size_t i = 0, n = s.size();
  while (i < n) {
    auto c = static_cast<uint8_t>(s[i]);
    size_t extra;
    uint32_t cp;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xe0) == 0xc0) { extra = 1; cp = c & 0x1f; }
    else if ((c & 0xf0) == 0xe0) { extra = 2; cp = c & 0x0f; }
    else if ((c & 0xf8) == 0xf0) { extra = 3; cp = c & 0x07; }
    else return false;
    if (n - i <= extra) return false;
    for (size_t k = 1; k <= extra; ++k) {
      auto b = static_cast<uint8_t>(s[i + k]);
      if ((b & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += extra + 1;
  }
  return true;
}

namespace {

// A single pass over the text with an explicit stack, so that depth costs
// heap rather than call stack, and nothing is built: the kernel keeps the
// text as it came and only needs to know that it is JSON.
class JsonChecker {
 public:
  explicit JsonChecker(std::string_view s) : p_(s.data()), end_(s.data() + s.size()) {}

  bool run() {
    skipSpace();
    if (!value()) return false;
    // Containers: their first element (or their close), then after each
    // element a comma or the close. A value that opens a container only
    // pushes it, so nesting costs this loop's stack, never the call stack.
    while (!stack_.empty()) {
      skipSpace();
      if (p_ == end_) return false;
      const char open = stack_.back();
      const char close = open == '{' ? '}' : ']';
      if (justOpened_) {
        justOpened_ = false;
        if (*p_ == close) {
          ++p_;
          stack_.pop_back();
        } else if (open == '{' ? !member() : !value()) {
          return false;
        }
        continue;
      }
      if (*p_ == ',') {
        ++p_;
        skipSpace();
        if (open == '{' ? !member() : !value()) return false;
        continue;
      }
      if (*p_ != close) return false;
      ++p_;
      stack_.pop_back();
    }
    skipSpace();
    return p_ == end_;
  }

 private:
  void skipSpace() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }

  // A value; a container is only opened (pushed) for run() to fill.
  bool value() {
    if (p_ == end_) return false;
    switch (*p_) {
      case '{':
      case '[':
        stack_.push_back(*p_++);
        justOpened_ = true;
        return true;
      case '"': return string();
      case 't': return literal("true");
      case 'f': return literal("false");
      case 'n': return literal("null");
      default: return number();
    }
  }

  // "name" : value (the value may open a container).
  bool member() {
    if (p_ == end_ || *p_ != '"' || !string()) return false;
    skipSpace();
    if (p_ == end_ || *p_ != ':') return false;
    ++p_;
    skipSpace();
    return value();
  }

  bool literal(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) return false;
    p_ += word.size();
    return true;
  }

  static int hexDigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // \uXXXX after the backslash and 'u' were read; -1 when malformed.
  long hex4() {
    if (end_ - p_ < 4) return -1;
    long v = 0;
    for (int i = 0; i < 4; ++i) {
      int d = hexDigit(p_[i]);
      if (d < 0) return -1;
      v = v * 16 + d;
    }
    p_ += 4;
    return v;
  }

  bool string() {
    ++p_;  // the opening quote
    while (p_ != end_) {
      const auto c = static_cast<uint8_t>(*p_);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        if (++p_ == end_) return false;
        const char e = *p_++;
        if (e == 'u') {
          long u = hex4();
          if (u < 0) return false;
          if (u >= 0xdc00 && u <= 0xdfff) return false;  // a low surrogate alone
          if (u >= 0xd800 && u <= 0xdbff) {                // a high one needs its low one
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
            p_ += 2;
            long low = hex4();
            if (low < 0xdc00 || low > 0xdfff) return false;
          }
        } else if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' && e != 't') {
          return false;
        }
        continue;
      }
      if (c < 0x80) {
        ++p_;
        continue;
      }
      // A multi-byte UTF-8 sequence, checked as isValidUtf8 checks it.
      size_t extra = (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : 0;
      if (extra == 0 || static_cast<size_t>(end_ - p_) <= extra) return false;
      if (!isValidUtf8(std::string_view(p_, extra + 1))) return false;
      p_ += extra + 1;
    }
    return false;
  }

  // -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?, and finite as a
  // double: a number too large for one is refused, as nlohmann refuses it.
  bool number() {
    const char* start = p_;
    if (p_ != end_ && *p_ == '-') ++p_;
    if (p_ == end_) return false;
    long intDigits = 0;
    if (*p_ == '0') {
      ++p_;
      intDigits = 1;
    } else if (*p_ >= '1' && *p_ <= '9') {
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_, ++intDigits;
    } else {
      return false;
    }
    bool leadingZero = intDigits == 1 && p_[-1] == '0';
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      const char* digits = p_;
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
      if (p_ == digits) return false;
    }
    bool hasExponent = false;
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      hasExponent = true;
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      const char* digits = p_;
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
      if (p_ == digits) return false;
    }
    // Up to 308 integer digits and no exponent cannot overflow (DBL_MAX is
    // about 1.8e308); anything else is settled by strtod itself.
    if (!hasExponent && (leadingZero || intDigits <= 308)) return true;
    const std::string token(start, p_);
    const double v = std::strtod(token.c_str(), nullptr);
    return v - v == 0;  // finite
  }

  const char* p_;
  const char* end_;
  std::vector<char> stack_;  // the open containers: '{' or '['
  bool justOpened_ = false;  // the top container has had no element yet
};

}  // namespace

bool isJsonText(std::string_view s) { return JsonChecker(s).run(); }

}  // namespace pc
