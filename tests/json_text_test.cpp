// isJsonText: the check every value, message and presence passes, from this
// node's host and from peers. It must accept exactly what nlohmann::json
// accepts (as earlier versions did) except where nlohmann is more lenient
// than JSON.parse (a leading byte order mark; a NUL, where nlohmann stops):
// a value the kernel took but the page could not parse would break the
// page's copy of the state.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "state/json_text.h"

namespace {

using pc::isJsonText;

TEST(JsonText, AcceptsRfc8259Values) {
  for (const char* text : {"0", "-0", "1", "-1", "0.5", "1e5", "1E+5", "1e-5", "-12.5e-3", "123456789012345678901234567890",
                           "1e308", "1e-400", "true", "false", "null", "\"\"", "\"a\"", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
                           "\"\\u0041\\u00e9\"", "\"\\ud83d\\ude00\"", "\"é😀\"", "[]", "{}", "[1,2,3]", " [ 1 , [ ] , { } ] ",
                           "{\"a\":1,\"b\":[true,null],\"c\":{\"d\":\"e\"}}", "\t\r\n 7 \t\r\n", "{\"\":\"\"}"})
    EXPECT_TRUE(isJsonText(text)) << text;
}

TEST(JsonText, RefusesWhatIsNotOneJsonValue) {
  for (const char* text :
       {"", " ", "01", "-", "1.", ".5", "+1", "1e", "1e+", "0x10", "NaN", "Infinity", "-Infinity", "1e400", "-1e400", "tru",
        "truex", "nul", "[", "]", "[1,]", "[,1]", "{\"a\"}", "{\"a\":}", "{a:1}", "{\"a\":1,}", "{'a':1}", "\"", "\"abc",
        "'a'", "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\\ud800x\"",
        "1 2", "[1] [2]", "{}{}", "\"a\"b", "[1 2]", "\v1", "\f1"})
    EXPECT_FALSE(isJsonText(text)) << text;
  // Control characters in strings, and bytes that are not UTF-8.
  EXPECT_FALSE(isJsonText(std::string("\"a\x01\"")));
  EXPECT_FALSE(isJsonText(std::string("\"a\0b\"", 5)));
  EXPECT_FALSE(isJsonText(std::string("1\0", 2)));
  for (const char* bad : {"\"\xff\"", "\"\xc0\xaf\"", "\"\xe0\x80\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xe2\x82\""})
    EXPECT_FALSE(isJsonText(bad)) << "invalid UTF-8 inside a string";
}

TEST(JsonText, RefusesAByteOrderMarkThatNlohmannWouldSkip) {
  const std::string withBom = "\xEF\xBB\xBF" "1";
  EXPECT_TRUE(nlohmann::json::accept(withBom)) << "nlohmann skips it, so the old check let it through";
  EXPECT_FALSE(isJsonText(withBom));
  EXPECT_FALSE(isJsonText("\xEF\xBB\xBF"));
}

TEST(JsonText, RefusesANulThatNlohmannTakesForTheEnd) {
  // nlohmann stops at the first NUL: "1\0garbage" passed the old check, and
  // the page, handed the whole text, could not parse it.
  for (const std::string& text : {std::string("1\0garbage", 9), std::string(" [ ] \0\0[", 9), std::string("{}\0", 3)}) {
    EXPECT_TRUE(nlohmann::json::accept(text)) << "the old check's verdict";
    EXPECT_FALSE(isJsonText(text));
  }
}

TEST(JsonText, DepthCostsHeapNotStack) {
  const size_t depth = 1'000'000;
  std::string deep(depth, '[');
  deep.append(depth, ']');
  EXPECT_TRUE(isJsonText(deep));
  deep.pop_back();
  EXPECT_FALSE(isJsonText(deep));
  std::string objects;
  for (int i = 0; i < 100'000; ++i) objects += "{\"a\":";
  objects += "1";
  objects.append(100'000, '}');
  EXPECT_TRUE(isJsonText(objects));
}

TEST(JsonText, NumbersAtTheEdgeOfADouble) {
  EXPECT_TRUE(isJsonText("1.7976931348623157e308"));
  EXPECT_FALSE(isJsonText("1.7976931348623159e308")) << "rounds to infinity";
  EXPECT_TRUE(isJsonText(std::string(308, '9')));
  EXPECT_TRUE(isJsonText("1" + std::string(308, '0')));
  EXPECT_FALSE(isJsonText("1" + std::string(309, '0')));
  EXPECT_TRUE(isJsonText("0." + std::string(400, '0') + "1"));
  EXPECT_TRUE(isJsonText("0.0e99999999999999999999"));
}

// Random texts near JSON (valid values, then mutated), judged by both.
TEST(JsonText, AgreesWithNlohmannOnMutatedTexts) {
  std::mt19937_64 rng(20261128);
  const std::vector<std::string> seeds = {
      "{\"a\":[1,2.5,-3e4,true,false,null],\"b\":{\"c\":\"d\\u00e9\\ud83d\\ude00\"}}",
      "[\"x\",{\"\":[]},{},0,-0.0,1E-2]",
      "\"\\\"\\\\\\/\\b\\f\\n\\r\\t é\"",
      "123456789012345678901234567890e-10",
      " [ [ [ ] ] , { \"k\" : [ 1 ] } ] ",
  };
  const std::string alphabet = std::string("{}[]\",:\\/ \t\n\r0123456789.-+eEtrufalsn\xc3\xa9\xef\xbb\xbf\x01ux") + '\0';
  size_t accepted = 0, refused = 0;
  for (int round = 0; round < 200'000; ++round) {
    std::string s = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = s.empty() ? 0 : rng() % (s.size() + 1);
      switch (rng() % 3) {
        case 0: s.insert(s.begin() + static_cast<long>(at), alphabet[rng() % alphabet.size()]); break;
        case 1: if (at < s.size()) s.erase(at, 1); break;
        default: if (at < s.size()) s[at] = alphabet[rng() % alphabet.size()]; break;
      }
    }
    const bool bom = s.size() >= 3 && s.compare(0, 3, "\xEF\xBB\xBF") == 0;
    const bool nul = s.find('\0') != std::string::npos;
    const bool expected = nlohmann::json::accept(s) && !bom && !nul;
    ASSERT_EQ(isJsonText(s), expected) << "text: " << s;
    ++(expected ? accepted : refused);
  }
  // Both verdicts were exercised often.
  EXPECT_GT(accepted, 10'000u);
  EXPECT_GT(refused, 10'000u);
}

}  // namespace
