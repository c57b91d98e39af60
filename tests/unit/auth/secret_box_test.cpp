#include "auth/secret_box.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "auth/digest.hpp"

namespace cb::auth {
namespace {

namespace fs = std::filesystem;

const std::string kKey = [] {
  std::string k;
  for (int i = 0; i < 32; ++i) k.push_back(static_cast<char>(i * 7 + 1));
  return k;
}();

/// A fresh private directory, removed after the test.
class SecretBoxFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cb-auth-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  static std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  static void write_file(const fs::path& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary);
    out << bytes;
  }

  fs::path dir_;
};

TEST(SecretBox, SealOpenRoundTrip) {
  const auto box = SecretBox::from_key(kKey);
  const std::string secret(64, 'c');
  const std::string sealed = box.seal(secret, "0123456789abcdef");
  EXPECT_EQ(sealed.size(), 1u + 12u + secret.size() + 16u);
  EXPECT_EQ(static_cast<unsigned char>(sealed[0]), 0x01);
  EXPECT_EQ(sealed.find(secret), std::string::npos);
  const auto opened = box.open(sealed, "0123456789abcdef");
  ASSERT_TRUE(opened.has_value()) << opened.error().message;
  EXPECT_EQ(*opened, secret);
}

TEST(SecretBox, EmptyPlaintextAndAad) {
  const auto box = SecretBox::from_key(kKey);
  const auto opened = box.open(box.seal("", ""), "");
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(*opened, "");
}

TEST(SecretBox, NonceIsFreshForEverySeal) {
  const auto box = SecretBox::from_key(kKey);
  EXPECT_NE(box.seal("same", "id"), box.seal("same", "id"));
}

TEST(SecretBox, WrongAadFails) {
  const auto box = SecretBox::from_key(kKey);
  const std::string sealed = box.seal("the secret", "aaaaaaaaaaaaaaaa");
  const auto opened = box.open(sealed, "bbbbbbbbbbbbbbbb");
  ASSERT_FALSE(opened.has_value());
  EXPECT_EQ(opened.error().code, ErrorCode::internal);
  EXPECT_EQ(opened.error().message, "stored secret cannot be decrypted with the current key");
}

TEST(SecretBox, WrongKeyFails) {
  std::string other = kKey;
  other[0] ^= 1;
  const std::string sealed = SecretBox::from_key(kKey).seal("the secret", "id");
  const auto opened = SecretBox::from_key(other).open(sealed, "id");
  ASSERT_FALSE(opened.has_value());
  EXPECT_EQ(opened.error().message, "stored secret cannot be decrypted with the current key");
}

TEST(SecretBox, EveryTamperedByteFails) {
  const auto box = SecretBox::from_key(kKey);
  const std::string sealed = box.seal("the secret", "id");
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    std::string t = sealed;
    t[i] = static_cast<char>(t[i] ^ 0x40);
    const auto opened = box.open(t, "id");
    ASSERT_FALSE(opened.has_value()) << "byte " << i;
    EXPECT_EQ(opened.error().code, ErrorCode::internal);
    EXPECT_EQ(opened.error().message.find("the secret"), std::string::npos);
  }
}

TEST(SecretBox, TruncatedValueFails) {
  const auto box = SecretBox::from_key(kKey);
  const std::string sealed = box.seal("the secret", "id");
  EXPECT_FALSE(box.open(sealed.substr(0, sealed.size() - 1), "id").has_value());
  EXPECT_FALSE(box.open(sealed.substr(0, 28), "id").has_value());
  EXPECT_FALSE(box.open("", "id").has_value());
}

TEST(SecretBox, FromKeyRejectsWrongSize) {
  EXPECT_THROW((void)SecretBox::from_key(std::string(31, 'k')), std::invalid_argument);
  EXPECT_THROW((void)SecretBox::from_key(std::string(33, 'k')), std::invalid_argument);
}

TEST(SecretBox, FingerprintIsFirst8HexOfSha256) {
  const auto box = SecretBox::from_key(kKey);
  EXPECT_EQ(box.key_fingerprint(), to_hex(sha256(kKey)).substr(0, 8));
  EXPECT_EQ(box.key_fingerprint().size(), 8u);
}

TEST_F(SecretBoxFiles, KeyFileCreatedWithMode0600AndReused) {
  const fs::path key_file = dir_ / "data" / "nested" / "secret.key";
  const auto first = SecretBox::load_or_create(key_file, "");
  ASSERT_TRUE(first.has_value()) << first.error().message;
  ASSERT_TRUE(fs::exists(key_file));
  EXPECT_EQ(fs::file_size(key_file), 32u);
  struct stat st {};
  ASSERT_EQ(::stat(key_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  // No temporary file is left next to the key.
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(key_file.parent_path())) ++entries;
  EXPECT_EQ(entries, 1);

  const auto second = SecretBox::load_or_create(key_file, "");
  ASSERT_TRUE(second.has_value()) << second.error().message;
  EXPECT_EQ(second->key_fingerprint(), first->key_fingerprint());
  const auto opened = second->open(first->seal("s", "id"), "id");
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(*opened, "s");
  EXPECT_EQ(first->key_fingerprint(), to_hex(sha256(read_file(key_file))).substr(0, 8));
}

TEST_F(SecretBoxFiles, ExistingKeyFileIsUsed) {
  const fs::path key_file = dir_ / "secret.key";
  write_file(key_file, kKey);
  const auto box = SecretBox::load_or_create(key_file, "");
  ASSERT_TRUE(box.has_value()) << box.error().message;
  EXPECT_EQ(box->key_fingerprint(), SecretBox::from_key(kKey).key_fingerprint());
}

TEST_F(SecretBoxFiles, KeyFileOfWrongSizeIsRejected) {
  const fs::path key_file = dir_ / "secret.key";
  for (const std::string& bytes : {kKey.substr(0, 31), kKey + "x", std::string()}) {
    write_file(key_file, bytes);
    const auto box = SecretBox::load_or_create(key_file, "");
    ASSERT_FALSE(box.has_value());
    EXPECT_EQ(box.error().code, ErrorCode::invalid_argument);
    EXPECT_NE(box.error().message.find(key_file.string()), std::string::npos);
  }
  EXPECT_EQ(read_file(key_file), "");  // never overwritten
}

TEST_F(SecretBoxFiles, EnvKeyHexIsUsedAndFileUntouched) {
  const fs::path key_file = dir_ / "secret.key";
  const auto box = SecretBox::load_or_create(key_file, to_hex(kKey));
  ASSERT_TRUE(box.has_value()) << box.error().message;
  EXPECT_EQ(box->key_fingerprint(), SecretBox::from_key(kKey).key_fingerprint());
  EXPECT_FALSE(fs::exists(key_file));

  std::string upper = to_hex(kKey);
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const auto box_upper = SecretBox::load_or_create(key_file, upper + "\n");
  ASSERT_TRUE(box_upper.has_value());
  EXPECT_EQ(box_upper->key_fingerprint(), box->key_fingerprint());
}

TEST_F(SecretBoxFiles, EnvKeyBase64IsUsed) {
  const fs::path key_file = dir_ / "secret.key";
  const auto box = SecretBox::load_or_create(key_file, base64_encode(kKey));
  ASSERT_TRUE(box.has_value()) << box.error().message;
  EXPECT_EQ(box->key_fingerprint(), SecretBox::from_key(kKey).key_fingerprint());
  EXPECT_FALSE(fs::exists(key_file));
}

TEST_F(SecretBoxFiles, BadEnvKeyIsRejectedWithoutEchoingIt) {
  const fs::path key_file = dir_ / "secret.key";
  const std::string bad[] = {
      "not-a-key-5ec2e7",
      to_hex(kKey).substr(0, 62),         // 31 bytes of hex
      to_hex(kKey) + "00",                // 33 bytes of hex
      base64_encode(kKey.substr(0, 31)),  // base64 of 31 bytes
      std::string(63, 'a') + "g",         // 64 chars, not hex, not base64 of 32 bytes
  };
  for (const auto& env : bad) {
    const auto box = SecretBox::load_or_create(key_file, env);
    ASSERT_FALSE(box.has_value()) << env;
    EXPECT_EQ(box.error().code, ErrorCode::invalid_argument);
    EXPECT_EQ(box.error().message.find(env), std::string::npos);
    EXPECT_EQ(box.error().detail.find(env), std::string::npos);
  }
  EXPECT_FALSE(fs::exists(key_file));
}

TEST_F(SecretBoxFiles, BadKeyMessageNamesWhereTheKeyWasSet) {
  const fs::path key_file = dir_ / "secret.key";
  const auto from_env = SecretBox::load_or_create(key_file, "abc", "COMMITBRIDGE_SECURITY_KEY");
  ASSERT_FALSE(from_env.has_value());
  EXPECT_EQ(from_env.error().message,
            "COMMITBRIDGE_SECURITY_KEY: the encryption key must be 64 hex characters or base64 of "
            "32 bytes");
  const auto from_file = SecretBox::load_or_create(key_file, "abc", "/etc/cb.toml: security.key");
  ASSERT_FALSE(from_file.has_value());
  EXPECT_EQ(from_file.error().message,
            "/etc/cb.toml: security.key: the encryption key must be 64 hex characters or base64 "
            "of 32 bytes");
  const auto unnamed = SecretBox::load_or_create(key_file, "abc");
  ASSERT_FALSE(unnamed.has_value());
  EXPECT_EQ(unnamed.error().message,
            "the encryption key must be 64 hex characters or base64 of 32 bytes");
  EXPECT_FALSE(fs::exists(key_file));
}

TEST_F(SecretBoxFiles, UnreadableKeyPathIsAnError) {
  const fs::path key_file = dir_ / "is-a-dir";
  fs::create_directory(key_file);
  const auto box = SecretBox::load_or_create(key_file, "");
  ASSERT_FALSE(box.has_value());
}

}  // namespace
}  // namespace cb::auth
