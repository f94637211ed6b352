// The hashing utilities feed fingerprints that replicas compare with one
// another, so each must match its published definition bit for bit; any
// drift would make every node look out of sync with every other.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "hashing/key_hash.h"
#include "hashing/seeded_hash.h"
#include "hashing/sha256.h"

namespace {

std::string hex(const std::array<uint8_t, 32>& d) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (uint8_t b : d) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

// Message bytes 00 01 02 ..., as in the SipHash reference vectors.
std::vector<uint8_t> countingBytes(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = uint8_t(i);
  return v;
}

}  // namespace

// ---- SHA-256 -------------------------------------------------------------------------

TEST(Hashing, Sha256NistVectors) {
  EXPECT_EQ(hex(pc::sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex(pc::sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex(pc::sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(hex(pc::sha256("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                           "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu")),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(Hashing, Sha256MillionAInUnevenChunks) {
  const std::string chunk(1000, 'a');
  const size_t sizes[] = {1, 63, 64, 65, 1000, 7, 128};
  pc::Sha256 h;
  size_t fed = 0;
  for (size_t i = 0; fed < 1000000; ++i) {
    size_t n = sizes[i % (sizeof sizes / sizeof sizes[0])];
    if (n > 1000000 - fed) n = 1000000 - fed;
    h.update(chunk.data(), n);
    fed += n;
  }
  EXPECT_EQ(hex(h.finish()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// Lengths around 55/56 and 64 decide whether padding needs a second block.
// Expected values from Python's hashlib.
TEST(Hashing, Sha256PaddingBoundaries) {
  const std::pair<size_t, const char*> cases[] = {
      {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
      {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
      {57, "f13b2d724659eb3bf47f2dd6af1accc87b81f09f59f2b75e5c0bed6589dfe8c6"},
      {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
      {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
      {65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
      {119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
      {120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
  };
  for (const auto& [n, want] : cases) EXPECT_EQ(hex(pc::sha256(std::string(n, 'a'))), want) << n;
}

TEST(Hashing, Sha256IncrementalEqualsOneShot) {
  std::string msg;
  for (size_t i = 0; i < 300; ++i) msg += char(uint8_t(i * 131 + 7));
  uint32_t lcg = 12345;
  for (size_t len = 0; len <= 300; ++len) {
    const std::string_view m(msg.data(), len);
    const auto whole = pc::sha256(m);
    for (size_t cut = 0; cut <= len; ++cut) {  // every two-piece split
      pc::Sha256 h;
      h.update(m.substr(0, cut));
      h.update(m.substr(cut));
      ASSERT_EQ(h.finish(), whole) << "len " << len << " cut " << cut;
    }
    pc::Sha256 h;  // many small pieces, some empty
    for (size_t pos = 0; pos < len;) {
      lcg = lcg * 1103515245u + 12345u;
      const size_t n = (lcg >> 16) % 70;
      h.update(m.substr(pos, n));
      pos += n;
    }
    ASSERT_EQ(h.finish(), whole) << "len " << len;
  }
}

TEST(Hashing, Digest128TakesLeadingBytesBigEndian) {
  const pc::Digest128 d = pc::digest128(pc::sha256("abc"));
  EXPECT_EQ(d.hi, 0xba7816bf8f01cfeaULL);
  EXPECT_EQ(d.lo, 0x414140de5dae2223ULL);

  const pc::Digest128 a{1, 9}, b{2, 0}, c{2, 1};
  EXPECT_TRUE(a < b);
  EXPECT_TRUE(b < c);
  EXPECT_FALSE(c < b);
  EXPECT_FALSE(b < b);
  EXPECT_TRUE(b == pc::Digest128({2, 0}));
  EXPECT_TRUE(b != c);
  EXPECT_FALSE(b != b);
}

// ---- SipHash -------------------------------------------------------------------------

// The 64 vectors of the SipHash reference implementation (veorq/SipHash):
// key 00..0f, message 00 01 .. (n-1), output read little-endian.
TEST(Hashing, SipHash24ReferenceVectors) {
  const uint64_t want[64] = {
      0x726fdb47dd0e0e31, 0x74f839c593dc67fd, 0x0d6c8009d9a94f5a, 0x85676696d7fb7e2d,
      0xcf2794e0277187b7, 0x18765564cd99a68d, 0xcbc9466e58fee3ce, 0xab0200f58b01d137,
      0x93f5f5799a932462, 0x9e0082df0ba9e4b0, 0x7a5dbbc594ddb9f3, 0xf4b32f46226bada7,
      0x751e8fbc860ee5fb, 0x14ea5627c0843d90, 0xf723ca908e7af2ee, 0xa129ca6149be45e5,
      0x3f2acc7f57c29bdb, 0x699ae9f52cbe4794, 0x4bc1b3f0968dd39c, 0xbb6dc91da77961bd,
      0xbed65cf21aa2ee98, 0xd0f2cbb02e3b67c7, 0x93536795e3a33e88, 0xa80c038ccd5ccec8,
      0xb8ad50c6f649af94, 0xbce192de8a85b8ea, 0x17d835b85bbb15f3, 0x2f2e6163076bcfad,
      0xde4daaaca71dc9a5, 0xa6a2506687956571, 0xad87a3535c49ef28, 0x32d892fad841c342,
      0x7127512f72f27cce, 0xa7f32346f95978e3, 0x12e0b01abb051238, 0x15e034d40fa197ae,
      0x314dffbe0815a3b4, 0x027990f029623981, 0xcadcd4e59ef40c4d, 0x9abfd8766a33735c,
      0x0e3ea96b5304a7d0, 0xad0c42d6fc585992, 0x187306c89bc215a9, 0xd4a60abcf3792b95,
      0xf935451de4f21df2, 0xa9538f0419755787, 0xdb9acddff56ca510, 0xd06c98cd5c0975eb,
      0xe612a3cb9ecba951, 0xc766e62cfcadaf96, 0xee64435a9752fe72, 0xa192d576b245165a,
      0x0a8787bf8ecb74b2, 0x81b3e73d20b49b6f, 0x7fa8220ba3b2ecea, 0x245731c13ca42499,
      0xb78dbfaf3a8d83bd, 0xea1ad565322a1a0b, 0x60e61c23a3795013, 0x6606d7e446282b93,
      0x6ca4ecb15c5f91e1, 0x9f626da15c9625f3, 0xe51b38608ef25f57, 0x958a324ceb064572,
  };
  const uint64_t k0 = 0x0706050403020100, k1 = 0x0f0e0d0c0b0a0908;
  const auto msg = countingBytes(64);
  for (size_t n = 0; n < 64; ++n) EXPECT_EQ((pc::sipHash<2, 4>(k0, k1, msg.data(), n)), want[n]) << n;
}

// SipHash-1-3 outputs of the reference implementation (built with 1 and 3
// rounds), as published in OCaml's testsuite (tests/hashing/sip13): message
// 00 01 .. (n-1), key all zero, and key k0 = 1, k1 = 0.
TEST(Hashing, SipHash13ReferenceVectors) {
  const uint64_t zeroKey[64] = {
      0xd1fba762150c532c, 0x68a914128e01e473, 0x010bac45c41e3669, 0x4d4c9a4a8ef6e0ad,
      0x7cc43f98813e4dbd, 0x5abe2169dff36275, 0xe3c25f87624f1cdb, 0x2f098ab0c751325a,
      0xead411e67ebe2eea, 0x75927f9d95124362, 0xaf9f77a65ab51a1d, 0xfe64ce8b6617fcff,
      0xa6baf4fb0f9fe1c2, 0xa0cf3211850f8e0d, 0x7f86049379fbfe67, 0xf30eb725bb91c9ea,
      0x8972188433a5c5b7, 0x4883c49a2c009c1d, 0xadc2c0b63044067d, 0x091f4a3329f87d19,
      0x639e355ae68c0100, 0xb17bef2cb5213239, 0xf8aeb1066236ccfe, 0x37332b1389daa4ff,
      0x31185a47af932f3a, 0xebf352e82ae23e2f, 0xed36ff242fe478b2, 0x2454d97d299299df,
      0x8cd57fe8130d0ac7, 0xbe98eb2faf0a0e85, 0xd427c34ee09470c6, 0x169739443111d49b,
      0x31ef8061c910629b, 0x7fb71d24dfa4c9f6, 0x92771f49e836d389, 0x3c393cf6f0853bc3,
      0xac77921fcc642bd3, 0x422a9751192ff266, 0xc680ae8a8c584ddf, 0x6c76b6d34bb6d26b,
      0x95bc321ab41d8206, 0x908a3a97a6d37669, 0xfcaf3c64874dd0b4, 0xf689479b32b84a44,
      0xd857641079efd1fd, 0x8b581578722633f7, 0x83cb09d35ea7bcd4, 0x8485f7f5ae725a0d,
      0xfe1f2445ba50237f, 0x23cece041d7866b0, 0x416687480b336c09, 0xf15960da7e7f3892,
      0xded6177b9826835a, 0xf80dae51668be6be, 0x17ecc6ee6647df18, 0x5220d642b4a52110,
      0xa4f0cf4ba4adc016, 0xe5125bb26d1f2976, 0x851b0e75f580d256, 0x12605250a37e39ac,
      0xd95a713568daebf1, 0xcdcf4a42ec0dd605, 0xa5c708712b617164, 0x385d3e39e5f37359,
  };
  const auto msg = countingBytes(64);
  for (size_t n = 0; n < 64; ++n) EXPECT_EQ(pc::sipHash13(0, 0, msg.data(), n), zeroKey[n]) << n;

  const std::pair<size_t, uint64_t> keyOne[] = {
      {0, 0xc44a0ebf4e962581},  {1, 0xc7f8837cdc05230b},  {7, 0x9ce896d47e204af6},
      {8, 0x51738227823e2309},  {15, 0x535280d545ebc696}, {16, 0xde2f7768ba893d84},
      {41, 0x0f1b601b270258d7}, {63, 0xa35bf11b84b78be0},
  };
  for (const auto& [n, want] : keyOne) EXPECT_EQ(pc::sipHash13(1, 0, msg.data(), n), want) << n;
}

TEST(Hashing, SipHash13DiffersFrom24AndDependsOnKey) {
  const std::string_view m = "peer-supplied key";
  const uint64_t k0 = 0x0706050403020100, k1 = 0x0f0e0d0c0b0a0908;
  const uint64_t h13 = pc::sipHash13(k0, k1, m.data(), m.size());
  EXPECT_NE(h13, (pc::sipHash<2, 4>(k0, k1, m.data(), m.size())));
  EXPECT_NE(h13, pc::sipHash13(k0 ^ 1, k1, m.data(), m.size()));
  EXPECT_NE(h13, pc::sipHash13(k0, k1 ^ (1ULL << 63), m.data(), m.size()));
  EXPECT_EQ(h13, pc::sipHash13(k0, k1, m.data(), m.size()));
}

TEST(Hashing, SeededStringHashWorksInUnorderedMap) {
  const pc::SeededStringHash hash{0x0123456789abcdef, 0xfedcba9876543210};
  EXPECT_EQ(hash("abc"), static_cast<size_t>(pc::sipHash13(hash.k0, hash.k1, "abc", 3)));
  EXPECT_NE(hash("abc"), (pc::SeededStringHash{1, 2}("abc")));

  std::unordered_map<std::string, int, pc::SeededStringHash> map(16, hash);
  for (int i = 0; i < 1000; ++i) map["key-" + std::to_string(i)] = i;
  ASSERT_EQ(map.size(), 1000u);
  EXPECT_EQ(map.at("key-0"), 0);
  EXPECT_EQ(map.at("key-999"), 999);
  EXPECT_EQ(map.count("key-1000"), 0u);
}

// ---- stableKeyHash -------------------------------------------------------------------

// Pinned values, checked independently with a short Python implementation of
// FNV-1a 64 followed by fmix64. A change here breaks the wire protocol.
TEST(Hashing, StableKeyHashPinnedValues) {
  struct Case {
    std::string_view key;
    uint64_t hash;
    uint32_t leaf;
  };
  const Case cases[] = {
      {"", 0xefd01f60ba992926, 3837},
      {"a", 0x82a2a958a9bece5b, 2090},
      {"key-1", 0xa002e14b20bb64ec, 2560},
      {"key-2", 0xe8612b9ae0330532, 3718},
      {std::string_view("\xff\x80\x00\x7f", 4), 0x938712fa7cfe0fa6, 2360},  // high bytes, NUL
      {"caf\xc3\xa9", 0xf50b1f8e2c0682e6, 3920},                            // UTF-8 "café"
  };
  for (const Case& c : cases) {
    EXPECT_EQ(pc::stableKeyHash(c.key), c.hash) << c.key;
    EXPECT_EQ(pc::fingerprintLeaf(c.hash), c.leaf) << c.key;
  }
  EXPECT_EQ(pc::kFingerprintLeafBits, 12u);
  EXPECT_EQ(pc::fingerprintLeaf(~0ULL), 4095u);
  EXPECT_EQ(pc::fingerprintLeaf((1ULL << 52) - 1), 0u);
}
