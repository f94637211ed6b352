// Task data: checkTaskData accepts the CBOR that js-glue/compute/task-data.js
// writes and refuses everything nlohmann's parser must not be handed (it
// trusts declared lengths and recurses without a bound); parseTaskData and
// encodeTaskData round-trip it, typed arrays as tagged binaries.
#include <gtest/gtest.h>

#include <string>

#include "compute/task_data.h"

using namespace pc;
using nlohmann::json;

namespace {

// "a1 61 61 01" -> the bytes A1 61 61 01.
std::string hex(const std::string& text) {
  std::string out;
  int nibbles = 0;
  unsigned value = 0;
  for (char c : text) {
    if (c == ' ') continue;
    unsigned v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c - 'A' + 10;
    value = value * 16 + v;
    if (++nibbles == 2) {
      out += static_cast<char>(value);
      nibbles = 0;
      value = 0;
    }
  }
  EXPECT_EQ(nibbles, 0) << "odd number of hex digits in " << text;
  return out;
}

std::string nested(size_t arrays) { return std::string(arrays, '\x81') + std::string(1, '\x00'); }

void expectRejected(const std::string& bytes, const std::string& why, const std::string& what) {
  std::string error = checkTaskData(bytes);
  EXPECT_NE(error.find(why), std::string::npos) << what << ": got '" << error << "', wanted '" << why << "'";
  EXPECT_FALSE(parseTaskData(bytes).has_value()) << what;
}

}  // namespace

TEST(TaskData, AcceptsWhatTheJsCodecWrites) {
  const std::vector<std::pair<std::string, std::string>> accepted = {
      {"a1 61 61 01", "{a: 1}"},
      {"00", "0"},
      {"17", "23"},
      {"18 18", "24, one-byte head"},
      {"19 01 00", "256"},
      {"1a 00 01 00 00", "65536"},
      {"1b 00 20 00 00 00 00 00 00", "2^53"},
      {"1b ff ff ff ff ff ff ff ff", "2^64 - 1"},
      {"20", "-1"},
      {"3b 7f ff ff ff ff ff ff ff", "-2^63"},
      {"f4", "false"},
      {"f5", "true"},
      {"f6", "null"},
      {"f9 3c 00", "half float 1.0"},
      {"fa 3f c0 00 00", "single float 1.5"},
      {"fb 3f f1 99 99 99 99 99 9a", "double 1.1"},
      {"fb 7f f8 00 00 00 00 00 00", "the one NaN the JS codec writes"},
      {"60", "empty text"},
      {"63 e2 82 ac", "text with a euro sign"},
      {"64 f0 9f 98 80", "text with an astral character"},
      {"40", "empty byte string (Uint8Array)"},
      {"43 01 02 03", "byte string"},
      {"80", "empty array"},
      {"a0", "empty object"},
      {"83 01 61 78 f6", "[1, 'x', null]"},
      {"a2 61 61 81 01 61 62 a1 61 63 f5", "{a: [1], b: {c: true}}"},
      {"d8 46 40", "empty Uint32Array"},
      {"d8 46 48 01 00 00 00 ff ff ff ff", "Uint32Array [1, 2^32-1]"},
      {"d8 44 43 01 02 03", "Uint8ClampedArray"},
      {"d8 48 41 ff", "Int8Array"},
      {"d8 45 42 01 00", "Uint16Array"},
      {"d8 4d 44 01 00 ff ff", "Int16Array"},
      {"d8 4e 44 ff ff ff ff", "Int32Array"},
      {"d8 55 44 00 00 80 3f", "Float32Array"},
      {"d8 56 48 00 00 00 00 00 00 f0 3f", "Float64Array"},
      {"d8 47 48 01 00 00 00 00 00 00 00", "BigUint64Array"},
      {"d8 4f 48 ff ff ff ff ff ff ff ff", "BigInt64Array"},
      {"a1 61 74 d8 46 44 07 00 00 00", "a typed array inside an object"},
  };
  for (const auto& [bytes, what] : accepted) {
    std::string b = hex(bytes);
    EXPECT_EQ(checkTaskData(b), "") << what;
    EXPECT_TRUE(parseTaskData(b).has_value()) << what;
  }
  // A long byte string inside a tag (two-byte length head).
  std::string big = hex("d8 46 59 01 00") + std::string(256, '\x07');
  EXPECT_EQ(checkTaskData(big), "");
  EXPECT_EQ(checkTaskData(nested(kMaxTaskDataDepth)), "") << "256 levels are allowed";
  EXPECT_TRUE(parseTaskData(nested(kMaxTaskDataDepth)).has_value());
}

TEST(TaskData, ParsesValues) {
  std::optional<json> v = parseTaskData(hex("a1 61 61 01"));
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, json({{"a", 1}}));

  v = parseTaskData(hex("fb 3f f1 99 99 99 99 99 9a"));
  ASSERT_TRUE(v && v->is_number_float());
  EXPECT_EQ(v->get<double>(), 1.1);
  v = parseTaskData(hex("f9 3c 00"));
  ASSERT_TRUE(v && v->is_number_float());
  EXPECT_EQ(v->get<double>(), 1.0);
  v = parseTaskData(hex("3b 7f ff ff ff ff ff ff ff"));
  ASSERT_TRUE(v && v->is_number_integer());
  EXPECT_EQ(v->get<int64_t>(), INT64_MIN);

  v = parseTaskData(hex("d8 46 48 01 00 00 00 ff ff ff ff"));
  ASSERT_TRUE(v);
  ASSERT_TRUE(v->is_binary());
  ASSERT_TRUE(v->get_binary().has_subtype());
  EXPECT_EQ(v->get_binary().subtype(), kTagUint32Array);
  EXPECT_EQ(v->get_binary(), std::vector<uint8_t>({1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}));

  // A plain byte string is a binary without a subtype.
  v = parseTaskData(hex("43 01 02 03"));
  ASSERT_TRUE(v && v->is_binary());
  EXPECT_FALSE(v->get_binary().has_subtype());

  v = parseTaskData(hex("a1 61 74 d8 46 44 07 00 00 00"));
  ASSERT_TRUE(v);
  ASSERT_TRUE((*v)["t"].is_binary());
  EXPECT_EQ((*v)["t"].get_binary().subtype(), kTagUint32Array);
}

TEST(TaskData, EncodesUint32ArraysAsTag70AndRoundTrips) {
  std::string bytes = encodeTaskData(uint32Array({1, 0xffffffffu}));
  EXPECT_EQ(bytes, hex("d8 46 48 01 00 00 00 ff ff ff ff")) << "the bytes the JS codec writes for this Uint32Array";
  EXPECT_EQ(checkTaskData(bytes), "");
  EXPECT_EQ(encodeTaskData(json({{"a", 1}})), hex("a1 61 61 01"));
  json value = {{"list", {1, -2, "three", nullptr, true}}, {"t", uint32Array({5, 6, 7})}};
  std::string encoded = encodeTaskData(value);
  ASSERT_EQ(checkTaskData(encoded), "");
  std::optional<json> back = parseTaskData(encoded);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, value);
  EXPECT_EQ(encodeTaskData(*back), encoded);
}

TEST(TaskData, RejectsTruncatedValues) {
  expectRejected("", "truncated", "nothing");
  expectRejected(hex("a1 61 61"), "truncated", "a map without its value");
  expectRejected(hex("a1 61"), "past the end", "a key shorter than its length");
  expectRejected(hex("19 01"), "truncated", "a two-byte head with one byte");
  expectRejected(hex("fb 3f f0 00"), "truncated", "a double cut short");
  expectRejected(hex("83 81 01 01"), "truncated", "an array one item short");
  expectRejected(hex("a2 61 61 01 61 62"), "truncated", "a map without its last value");
  expectRejected(hex("d8 46 44 01 00"), "past the end", "a typed array cut short");
  expectRejected(hex("d8 46"), "truncated", "a tag with nothing after it");
  expectRejected(hex("d8"), "truncated", "a tag head cut short");
}

TEST(TaskData, RejectsTrailingBytes) {
  expectRejected(hex("01 02"), "bytes after the value", "two values");
  expectRejected(hex("a1 61 61 01 00"), "bytes after the value", "an object and a zero");
}

TEST(TaskData, RejectsIndefiniteLengths) {
  expectRejected(hex("9f 01 ff"), "indefinite", "indefinite array");
  expectRejected(hex("bf 61 61 01 ff"), "indefinite", "indefinite map");
  expectRejected(hex("5f 41 01 ff"), "indefinite", "indefinite byte string");
  expectRejected(hex("7f 61 61 ff"), "indefinite", "indefinite text");
  expectRejected(hex("d8 46 5f 44 01 00 00 00 ff"), "indefinite", "indefinite bytes inside a typed array tag");
  expectRejected(hex("1c"), "reserved", "reserved additional information 28");
}

TEST(TaskData, RejectsUnknownTagsAndSimpleValues) {
  expectRejected(hex("c1 01"), "unsupported tag", "tag 1 (epoch time)");
  expectRejected(hex("d8 40 41 01"), "unsupported tag", "tag 64: the JS codec writes Uint8Array untagged");
  expectRejected(hex("d8 57 41 01"), "unsupported tag", "tag 87");
  expectRejected(hex("d9 01 00 41 01"), "unsupported tag", "tag 256");
  expectRejected(hex("d8 46 81 01"), "must wrap a byte string", "a typed array tag around an array");
  expectRejected(hex("d8 46 d8 46 40"), "must wrap a byte string", "a tag around a tag");
  expectRejected(hex("f7"), "simple value", "undefined");
  expectRejected(hex("f0"), "simple value", "simple value 16");
  expectRejected(hex("f8 ff"), "simple value", "simple value 255");
}

TEST(TaskData, RejectsTypedArraysWhoseLengthIsNotAMultipleOfTheElement) {
  expectRejected(hex("d8 46 43 01 02 03"), "multiple of its element size", "Uint32Array of 3 bytes");
  expectRejected(hex("d8 45 41 01"), "multiple of its element size", "Uint16Array of 1 byte");
  expectRejected(hex("d8 56 44 00 00 00 00"), "multiple of its element size", "Float64Array of 4 bytes");
  expectRejected(hex("d8 47 4c 00 00 00 00 00 00 00 00 00 00 00 00"), "multiple of its element size",
                 "BigUint64Array of 12 bytes");
}

TEST(TaskData, RejectsForgedHugeLengthsWithoutAllocating) {
  // Each declares far more than the bytes that follow; handed to nlohmann
  // they would reserve gigabytes (or exabytes). The checker must refuse them
  // from the length alone.
  expectRejected(hex("9b ff ff ff ff ff ff ff ff"), "past the end", "array of 2^64-1 items");
  expectRejected(hex("9a ff ff ff ff 00"), "past the end", "array of 2^32-1 items");
  expectRejected(hex("bb 00 00 00 01 00 00 00 00 61 61 01"), "past the end", "map of 2^32 pairs");
  expectRejected(hex("5b ff ff ff ff ff ff ff ff 00"), "past the end", "byte string of 2^64-1 bytes");
  expectRejected(hex("7b 7f ff ff ff ff ff ff ff 61"), "past the end", "text of 2^63-1 bytes");
  expectRejected(hex("d8 46 5b ff ff ff ff ff ff ff f8 00"), "past the end", "typed array of 2^64-8 bytes");
  // Every item takes a byte and every pair two: a count beyond that is
  // refused before any item is read.
  expectRejected(hex("84 01 01 01"), "past the end", "an array of 4 with 3 bytes left");
  expectRejected(hex("a2 61 61 01"), "past the end", "a map of 2 with 3 bytes left");
}

TEST(TaskData, RejectsNestingDeeperThan256) {
  expectRejected(nested(kMaxTaskDataDepth + 1), "nested too deeply", "257 arrays");
  expectRejected(nested(100000), "nested too deeply", "100000 arrays");
  std::string maps;
  for (size_t i = 0; i <= kMaxTaskDataDepth; ++i) maps += hex("a1 61 6b");
  maps += hex("00");
  expectRejected(maps, "nested too deeply", "257 objects");
}

TEST(TaskData, RejectsInvalidUtf8) {
  expectRejected(hex("61 ff"), "UTF-8", "byte ff");
  expectRejected(hex("61 80"), "UTF-8", "a lone continuation byte");
  expectRejected(hex("62 c0 80"), "UTF-8", "an overlong NUL");
  expectRejected(hex("63 ed a0 80"), "UTF-8", "a surrogate");
  expectRejected(hex("62 e2 82"), "UTF-8", "a cut sequence");
  expectRejected(hex("64 f4 90 80 80"), "UTF-8", "above U+10FFFF");
  expectRejected(hex("a1 61 ff 01"), "UTF-8", "a key that is not UTF-8");
}

TEST(TaskData, RejectsMapKeysThatAreNotText) {
  expectRejected(hex("a1 01 02"), "map key is not a text string", "integer key");
  expectRejected(hex("a1 41 61 01"), "map key is not a text string", "byte string key");
  expectRejected(hex("a1 80 01"), "map key is not a text string", "array key");
  expectRejected(hex("a1 f6 01"), "map key is not a text string", "null key");
  expectRejected(hex("a2 61 61 01 02 03"), "map key is not a text string", "second key an integer");
}

TEST(TaskData, RejectsIntegersBelowMinusTwoToThe63) {
  expectRejected(hex("3b 80 00 00 00 00 00 00 00"), "below -2^63", "-2^63 - 1");
  expectRejected(hex("3b ff ff ff ff ff ff ff ff"), "below -2^63", "-2^64");
  expectRejected(hex("81 3b 80 00 00 00 00 00 00 00"), "below -2^63", "inside an array");
  EXPECT_EQ(checkTaskData(hex("3b 7f ff ff ff ff ff ff ff")), "") << "-2^63 itself fits";
}

// PROTOCOL.md promises shortest heads, so that one value has one encoding and
// quorum results compare byte for byte; a longer head than needed is refused.
TEST(TaskData, RejectsHeadsLongerThanTheirShortestForm) {
  const char* why = "a head is not in its shortest form";
  expectRejected(hex("18 17"), why, "23 in a one-byte argument");
  expectRejected(hex("19 00 ff"), why, "255 in a two-byte argument");
  expectRejected(hex("1a 00 00 ff ff"), why, "65535 in a four-byte argument");
  expectRejected(hex("1b 00 00 00 00 ff ff ff ff"), why, "2^32-1 in an eight-byte argument");
  expectRejected(hex("38 00"), why, "-1 in a one-byte argument");
  expectRejected(hex("78 01 61"), why, "a one-byte text length in a long head");
  expectRejected(hex("59 00 01 00"), why, "a one-byte byte string length in a long head");
  expectRejected(hex("98 01 00"), why, "an array count in a long head");
  expectRejected(hex("b8 01 61 61 00"), why, "a map count in a long head");
  expectRejected(hex("d8 46 58 04 01 00 00 00"), why, "a typed array's byte length in a long head");
  // The smallest value of each width, and floats of every width, pass.
  for (const char* ok : {"18 18", "19 01 00", "1a 00 01 00 00", "1b 00 00 00 01 00 00 00 00", "f9 3c 00",
                         "fa 3f 80 00 00", "fb 3f f0 00 00 00 00 00 00", "38 18"})
    EXPECT_EQ(checkTaskData(hex(ok)), "") << ok;
}
