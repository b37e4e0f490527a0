//===- NpyTest.cpp - Tests of the .npy reader/writer ----------------------===//
//
// Checks runtime/Npy.h against bytes NumPy itself wrote (NpyTestData.inc),
// hand-made malformed files, file round trips, and the f16 / bf16 scalar
// conversions (exhaustively over every half value and every tie between
// adjacent halves).
//
//===----------------------------------------------------------------------===//

#include "Npy.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace attnflow::npy;

namespace {

#include "NpyTestData.inc"

std::string bytes(const char *data, size_t size) {
  return std::string(data, size);
}

bool parse(const std::string &file, Array &out, std::string &error) {
  return parseNpy(file.data(), file.size(), "test.npy", out, error);
}

template <typename T> std::vector<T> values(const Array &array) {
  std::vector<T> out(array.data.size() / sizeof(T));
  std::memcpy(out.data(), array.data.data(), out.size() * sizeof(T));
  return out;
}

uint32_t bitsOf(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

float floatOf(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

/// A fresh temporary directory, removed with its contents at the end.
class TempDir {
public:
  TempDir() {
    char tmpl[] = "/tmp/npytest.XXXXXX";
    const char *dir = ::mkdtemp(tmpl);
    path = dir ? dir : "";
  }
  ~TempDir() {
    for (const std::string &name : list())
      ::unlink((path + "/" + name).c_str());
    ::rmdir(path.c_str());
  }
  std::vector<std::string> list() const {
    std::vector<std::string> names;
    if (DIR *dir = ::opendir(path.c_str())) {
      while (struct dirent *entry = ::readdir(dir)) {
        std::string name = entry->d_name;
        if (name != "." && name != "..")
          names.push_back(name);
      }
      ::closedir(dir);
    }
    return names;
  }
  std::string path;
};

std::string readFile(const std::string &path) {
  std::string out;
  if (FILE *f = std::fopen(path.c_str(), "rb")) {
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof(buffer), f)) > 0)
      out.append(buffer, n);
    std::fclose(f);
  }
  return out;
}

void writeFile(const std::string &path, const std::string &contents) {
  FILE *f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fwrite(contents.data(), 1, contents.size(), f);
  std::fclose(f);
}

/// A format-1.0 file with the given header text (padded like NumPy) + data.
std::string handMade(const std::string &header, const std::string &data) {
  std::string h = header;
  size_t total = 10 + h.size() + 1;
  h.append((64 - total % 64) % 64, ' ');
  h += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(h.size() & 0xff);
  out += static_cast<char>(h.size() >> 8);
  return out + h + data;
}

//===----------------------------------------------------------------------===//
// Reading NumPy's files.
//===----------------------------------------------------------------------===//

TEST(NpyRead, Float32Matrix) {
  Array a;
  std::string error;
  ASSERT_TRUE(parse(bytes(kF32_2x3, kF32_2x3Size), a, error)) << error;
  EXPECT_EQ(a.dtype, DType::F32);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.numElements(), 6);
  EXPECT_EQ(values<float>(a), (std::vector<float>{0, 1, 2, 3, 4, 5}));
}

TEST(NpyRead, ZeroDimensional) {
  Array a;
  std::string error;
  ASSERT_TRUE(parse(bytes(kF64Scalar, kF64ScalarSize), a, error)) << error;
  EXPECT_EQ(a.dtype, DType::F64);
  EXPECT_TRUE(a.shape.empty());
  EXPECT_EQ(a.numElements(), 1);
  EXPECT_EQ(values<double>(a), (std::vector<double>{3.5}));
}

TEST(NpyRead, AllSupportedDtypes) {
  Array a;
  std::string error;
  ASSERT_TRUE(parse(bytes(kBool3, kBool3Size), a, error)) << error;
  EXPECT_EQ(a.dtype, DType::Bool);
  EXPECT_EQ(a.data, (std::vector<uint8_t>{1, 0, 1}));

  ASSERT_TRUE(parse(bytes(kI64_2, kI64_2Size), a, error)) << error;
  EXPECT_EQ(a.dtype, DType::I64);
  EXPECT_EQ(values<int64_t>(a), (std::vector<int64_t>{1, -2}));

  ASSERT_TRUE(parse(bytes(kI32_2x1, kI32_2x1Size), a, error)) << error;
  EXPECT_EQ(a.dtype, DType::I32);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(values<int32_t>(a), (std::vector<int32_t>{7, -9}));

  ASSERT_TRUE(parse(bytes(kF16_3, kF16_3Size), a, error)) << error;
  EXPECT_EQ(a.dtype, DType::F16);
  std::vector<uint16_t> halves = values<uint16_t>(a);
  ASSERT_EQ(halves.size(), 3u);
  EXPECT_EQ(halfToFloat(halves[0]), 1.0f);
  EXPECT_EQ(halfToFloat(halves[1]), 65504.0f);
  EXPECT_EQ(halves[2], 0x0001); // 6e-8 rounds to the smallest subnormal
}

TEST(NpyRead, EmptyArray) {
  Array a;
  std::string error;
  ASSERT_TRUE(parse(bytes(kF32Empty0x4, kF32Empty0x4Size), a, error)) << error;
  EXPECT_EQ(a.shape, (std::vector<int64_t>{0, 4}));
  EXPECT_EQ(a.numElements(), 0);
  EXPECT_TRUE(a.data.empty());
}

TEST(NpyRead, FormatVersions2And3) {
  for (const std::string &file :
       {bytes(kF32V2, kF32V2Size), bytes(kF32V3, kF32V3Size)}) {
    Array a;
    std::string error;
    ASSERT_TRUE(parse(file, a, error)) << error;
    EXPECT_EQ(a.shape, (std::vector<int64_t>{3}));
    EXPECT_EQ(values<float>(a), (std::vector<float>{0, 1, 2}));
  }
}

TEST(NpyRead, SixDimensions) {
  Array a;
  std::string error;
  ASSERT_TRUE(parse(bytes(kLongShape, kLongShapeSize), a, error)) << error;
  EXPECT_EQ(a.shape, (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(a.data.size(), 720u * 4);
}

TEST(NpyRead, HandWrittenHeaderVariants) {
  // Key order, quotes, whitespace and Python 2 longs as NEP 1 allows them.
  float data[2] = {1.5f, -2.0f};
  std::string raw(reinterpret_cast<const char *>(data), sizeof(data));
  for (const char *header :
       {"{'shape': (2,), 'fortran_order': False, 'descr': '<f4'}",
        "{\"descr\":\"<f4\",\"fortran_order\":False,\"shape\":(2L,)}",
        "{ 'descr' : '<f4' , 'fortran_order' : False , 'shape' : ( 2 , ) , }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }"}) {
    Array a;
    std::string error;
    ASSERT_TRUE(parse(handMade(header, raw), a, error))
        << header << ": " << error;
    EXPECT_EQ(a.numElements(), 2);
    EXPECT_EQ(values<float>(a), (std::vector<float>{1.5f, -2.0f}));
  }
  // '<b1' is a bool too.
  Array a;
  std::string error;
  ASSERT_TRUE(parse(handMade("{'descr': '<b1', 'fortran_order': False, "
                             "'shape': (1,), }",
                             std::string(1, '\x01')),
                    a, error))
      << error;
  EXPECT_EQ(a.dtype, DType::Bool);
}

//===----------------------------------------------------------------------===//
// Errors.
//===----------------------------------------------------------------------===//

void expectError(const std::string &file, const std::string &fragment) {
  Array a;
  std::string error;
  EXPECT_FALSE(parse(file, a, error));
  EXPECT_NE(error.find("test.npy: "), std::string::npos) << error;
  EXPECT_NE(error.find(fragment), std::string::npos)
      << "'" << error << "' does not mention '" << fragment << "'";
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
}

TEST(NpyErrors, UnsupportedDtypesAreNamed) {
  expectError(bytes(kBigEndian, kBigEndianSize), "'>f4'");
  expectError(bytes(kBigEndian, kBigEndianSize), "big-endian");
  expectError(bytes(kVoid2, kVoid2Size), "'|V2'");
  expectError(bytes(kObject, kObjectSize), "'|O'");
  expectError(bytes(kUInt32, kUInt32Size), "'<u4'");
  expectError(bytes(kComplex, kComplexSize), "'<c8'");
  expectError(bytes(kStructured, kStructuredSize), "structured");
  expectError(bytes(kStructured, kStructuredSize), "('a', '<f4')");
}

TEST(NpyErrors, FortranOrder) {
  expectError(bytes(kFortran, kFortranSize), "fortran_order");
}

TEST(NpyErrors, Truncated) {
  std::string file = bytes(kF32_2x3, kF32_2x3Size);
  // Every proper prefix is rejected: in the magic, the length, the header or
  // the data.
  for (size_t size : {size_t(0), size_t(3), size_t(8), size_t(9), size_t(50),
                      size_t(127), size_t(128), file.size() - 1}) {
    Array a;
    std::string error;
    EXPECT_FALSE(parse(file.substr(0, size), a, error)) << size;
    EXPECT_FALSE(error.empty());
  }
  expectError(file.substr(0, file.size() - 1), "truncated");
  expectError(file.substr(0, 50), "truncated");
}

TEST(NpyErrors, TrailingBytes) {
  expectError(bytes(kF32_2x3, kF32_2x3Size) + "xyz", "trailing");
}

TEST(NpyErrors, Garbage) {
  expectError("hello world, this is not numpy", "not a .npy file");
  std::string badVersion = bytes(kF32_2x3, kF32_2x3Size);
  badVersion[6] = 4;
  expectError(badVersion, "version 4.0");
  expectError(handMade("[1, 2, 3]", ""), "not a Python dict");
  expectError(handMade("{'descr': '<f4', 'fortran_order': False}", ""),
              "'shape'");
  expectError(handMade("{'descr': '<f4', 'fortran_order': False, "
                       "'shape': (2,), 'extra': 1}",
                       std::string(8, '\0')),
              "unexpected key 'extra'");
  expectError(handMade("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}",
                       std::string(8, '\0')),
              "fortran_order");
  expectError(handMade("{'descr': '<f4', 'fortran_order': False, "
                       "'shape': (-1,)}",
                       ""),
              "non-negative");
  expectError(handMade("{'descr': '<f4', 'fortran_order': False, "
                       "'shape': (2)}",
                       std::string(8, '\0')),
              "shape is not a tuple");
  expectError(handMade("{'descr': '<f4', 'fortran_order': False, "
                       "'shape': (99999999999999999999,)}",
                       ""),
              "too large");
  expectError(handMade("{'descr': '<f4', 'fortran_order': False, "
                       "'shape': (4611686018427387904, 4)}",
                       ""),
              "too large");
  expectError(handMade("{'descr': '<f4', 'fortran_order': False, "
                       "'shape': (2,)",
                       std::string(8, '\0')),
              "malformed");
}

TEST(NpyErrors, MissingFile) {
  Array a;
  std::string error;
  EXPECT_FALSE(readNpy("/nonexistent/dir/x.npy", a, error));
  EXPECT_NE(error.find("/nonexistent/dir/x.npy"), std::string::npos);
  EXPECT_NE(error.find("No such file"), std::string::npos) << error;
}

//===----------------------------------------------------------------------===//
// Writing.
//===----------------------------------------------------------------------===//

TEST(NpyWrite, BytesIdenticalToNumpy) {
  struct Case {
    const char *file;
    size_t size;
  };
  for (Case c : {Case{kF32_2x3, kF32_2x3Size}, Case{kF64Scalar, kF64ScalarSize},
                 Case{kBool3, kBool3Size}, Case{kI64_2, kI64_2Size},
                 Case{kI32_2x1, kI32_2x1Size}, Case{kF16_3, kF16_3Size},
                 Case{kF32Empty0x4, kF32Empty0x4Size},
                 Case{kLongShape, kLongShapeSize}}) {
    Array a;
    std::string error;
    ASSERT_TRUE(parse(bytes(c.file, c.size), a, error)) << error;
    std::vector<uint8_t> encoded;
    ASSERT_TRUE(encodeNpy(a.dtype, a.shape, a.data.data(), encoded, error));
    EXPECT_EQ(std::string(encoded.begin(), encoded.end()),
              bytes(c.file, c.size))
        << "shape " << formatShape(a.shape) << " " << dtypeName(a.dtype);
  }
}

TEST(NpyWrite, FileRoundTripAllDtypes) {
  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  std::vector<std::pair<DType, std::vector<int64_t>>> cases = {
      {DType::F64, {}},        {DType::F32, {2, 3}}, {DType::F16, {5}},
      {DType::I64, {1, 1, 1}}, {DType::I32, {4, 0}}, {DType::Bool, {3}}};
  for (auto &[type, shape] : cases) {
    Array a;
    a.dtype = type;
    a.shape = shape;
    a.data.resize(a.numElements() * dtypeSize(type));
    for (size_t i = 0; i < a.data.size(); ++i)
      a.data[i] = type == DType::Bool ? i % 2 : static_cast<uint8_t>(i * 7);
    std::string path = dir.path + "/a.npy", error;
    ASSERT_TRUE(writeNpy(path, a, error)) << error;
    Array b;
    ASSERT_TRUE(readNpy(path, b, error)) << error;
    EXPECT_EQ(b.dtype, a.dtype);
    EXPECT_EQ(b.shape, a.shape);
    EXPECT_EQ(b.data, a.data);
    std::string file = readFile(path);
    EXPECT_EQ((file.size() - a.data.size()) % 64, 0u) << "data not aligned";
  }
  EXPECT_EQ(dir.list(), std::vector<std::string>{"a.npy"}) << "temp left";
}

TEST(NpyWrite, ReplacesExistingFileAndSetsPermissions) {
  TempDir dir;
  std::string path = dir.path + "/out.npy", error;
  writeFile(path, "old contents");
  float value = 2.0f;
  ASSERT_TRUE(writeNpy(path, DType::F32, {}, &value, error)) << error;
  Array a;
  ASSERT_TRUE(readNpy(path, a, error)) << error;
  EXPECT_EQ(values<float>(a), std::vector<float>{2.0f});
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  mode_t mask = ::umask(0);
  ::umask(mask);
  EXPECT_EQ(st.st_mode & 0777, 0666u & ~mask);
}

TEST(NpyWrite, FailureLeavesNothing) {
  TempDir dir;
  std::string error;
  float value = 1.0f;
  // Missing directory.
  EXPECT_FALSE(
      writeNpy(dir.path + "/missing/x.npy", DType::F32, {}, &value, error));
  EXPECT_NE(error.find("missing/x.npy"), std::string::npos) << error;
  // Destination is a directory: the rename fails, the temp file is removed.
  ASSERT_EQ(::mkdir((dir.path + "/sub").c_str(), 0755), 0);
  error.clear();
  EXPECT_FALSE(writeNpy(dir.path + "/sub", DType::F32, {}, &value, error));
  EXPECT_FALSE(error.empty());
  EXPECT_EQ(dir.list(), std::vector<std::string>{"sub"});
  ::rmdir((dir.path + "/sub").c_str());
  // Negative dimension.
  EXPECT_FALSE(writeNpy(dir.path + "/n.npy", DType::F32, {-1}, &value, error));
  EXPECT_TRUE(dir.list().empty());
  // Data size mismatch.
  Array a;
  a.shape = {3};
  a.data.resize(4);
  EXPECT_FALSE(writeNpy(dir.path + "/m.npy", a, error));
  EXPECT_TRUE(dir.list().empty());
}

TEST(NpyWrite, LargeHeaderUsesVersion2) {
  // 30000 dimensions of size 1 ("1, " each) need a header longer than the
  // 65535 bytes format 1.0 can describe.
  std::vector<int64_t> shape(30000, 1);
  float value = 4.0f;
  std::vector<uint8_t> encoded;
  std::string error;
  ASSERT_TRUE(encodeNpy(DType::F32, shape, &value, encoded, error));
  EXPECT_EQ(encoded[6], 2);
  EXPECT_EQ((encoded.size() - 4) % 64, 0u);
  // NumPy (and this reader) refuse headers over 10000 bytes.
  Array a;
  EXPECT_FALSE(parseNpy(encoded.data(), encoded.size(), "big.npy", a, error));
  EXPECT_NE(error.find("limit"), std::string::npos) << error;
}

TEST(NpyWrite, FormatShape) {
  EXPECT_EQ(formatShape({}), "()");
  EXPECT_EQ(formatShape({3}), "(3,)");
  EXPECT_EQ(formatShape({2, 3}), "(2, 3)");
}

//===----------------------------------------------------------------------===//
// float16.
//===----------------------------------------------------------------------===//

/// The value of half `h` computed independently of halfToFloat.
double halfValue(uint16_t h) {
  int sign = h >> 15 ? -1 : 1;
  int exp = (h >> 10) & 0x1f;
  int mant = h & 0x3ff;
  if (exp == 0)
    return sign * std::ldexp(mant, -24);
  if (exp == 31)
    return mant ? NAN : sign * INFINITY;
  return sign * std::ldexp(1024 + mant, exp - 25);
}

TEST(Float16, AllHalvesConvertExactlyAndRoundTrip) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    float f = halfToFloat(static_cast<uint16_t>(h));
    double expected = halfValue(static_cast<uint16_t>(h));
    if (std::isnan(expected)) {
      EXPECT_TRUE(std::isnan(f)) << h;
      uint16_t back = floatToHalf(f);
      EXPECT_EQ(back & 0x7c00, 0x7c00) << h;
      EXPECT_NE(back & 0x3ff, 0) << h;
      EXPECT_EQ(back & 0x8000, h & 0x8000) << h;
      continue;
    }
    ASSERT_EQ(static_cast<double>(f), expected) << h;
    EXPECT_EQ(std::signbit(f), (h & 0x8000) != 0) << h;
    ASSERT_EQ(floatToHalf(f), h) << h;
  }
}

TEST(Float16, TiesRoundToEven) {
  // Between every pair of adjacent finite halves (subnormals included), the
  // midpoint goes to the even one and its float neighbours to the nearest.
  for (uint32_t h = 0; h < 0x7bff; ++h) {
    double lo = halfValue(static_cast<uint16_t>(h));
    double hi = halfValue(static_cast<uint16_t>(h + 1));
    float mid = static_cast<float>((lo + hi) / 2);
    ASSERT_EQ(static_cast<double>(mid), (lo + hi) / 2) << h;
    uint16_t even = (h & 1) ? h + 1 : h;
    ASSERT_EQ(floatToHalf(mid), even) << h;
    ASSERT_EQ(floatToHalf(-mid), even | 0x8000) << h;
    ASSERT_EQ(floatToHalf(std::nextafter(mid, 0.0f)), h) << h;
    ASSERT_EQ(floatToHalf(std::nextafter(mid, INFINITY)), h + 1) << h;
  }
}

TEST(Float16, MatchesNumpy) {
  // (float bits, numpy.float32(x).astype(numpy.float16) bits).
  const uint32_t cases[][2] = {
      {0x00000000u, 0x0000u}, {0x80000000u, 0x8000u}, {0x3f800000u, 0x3c00u},
      {0xc0200000u, 0xc100u}, {0x477fe000u, 0x7bffu}, {0x477feffdu, 0x7bffu},
      {0x477ff000u, 0x7c00u}, {0x501502f9u, 0x7c00u}, {0xd01502f9u, 0xfc00u},
      {0x38800000u, 0x0400u}, {0x387fc000u, 0x03ffu}, {0x33800000u, 0x0001u},
      {0x33000000u, 0x0000u}, {0x33000001u, 0x0001u}, {0x33c00000u, 0x0002u},
      {0x34000000u, 0x0002u}, {0x3f802000u, 0x3c01u}, {0x3f801000u, 0x3c00u},
      {0x3f803000u, 0x3c02u}, {0x3dcccccdu, 0x2e66u}, {0x40490fdbu, 0x4248u},
      {0x0da24260u, 0x0000u}, {0x7f800000u, 0x7c00u}, {0xff800000u, 0xfc00u},
      {0x45001000u, 0x6800u}, {0x45003000u, 0x6802u}, {0x45800800u, 0x6c00u},
      {0x38000000u, 0x0200u}, {0xb7800000u, 0x8100u}, {0x00000001u, 0x0000u},
      {0x80000001u, 0x8000u}};
  for (const auto &c : cases)
    EXPECT_EQ(floatToHalf(floatOf(c[0])), c[1]) << std::hex << c[0];
}

//===----------------------------------------------------------------------===//
// bfloat16.
//===----------------------------------------------------------------------===//

TEST(BFloat16, RoundToNearestEven) {
  EXPECT_EQ(floatToBFloat16(1.0f), 0x3f80);
  EXPECT_EQ(floatToBFloat16(-2.0f), 0xc000);
  EXPECT_EQ(floatToBFloat16(0.0f), 0x0000);
  EXPECT_EQ(floatToBFloat16(-0.0f), 0x8000);
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to the even 1.0.
  EXPECT_EQ(floatToBFloat16(floatOf(0x3f808000u)), 0x3f80);
  // 1 + 3 * 2^-8 is halfway between odd 0x3f81 and even 0x3f82.
  EXPECT_EQ(floatToBFloat16(floatOf(0x3f818000u)), 0x3f82);
  // Just below / above the tie.
  EXPECT_EQ(floatToBFloat16(floatOf(0x3f807fffu)), 0x3f80);
  EXPECT_EQ(floatToBFloat16(floatOf(0x3f808001u)), 0x3f81);
  EXPECT_EQ(floatToBFloat16(floatOf(0xbf818000u)), 0xbf82);
  // Exactly representable values are unchanged.
  EXPECT_EQ(floatToBFloat16(floatOf(0x40490000u)), 0x4049);
  // pi = 0x40490fdb rounds down.
  EXPECT_EQ(floatToBFloat16(3.14159265f), 0x4049);
  // Subnormals round like any other value.
  EXPECT_EQ(floatToBFloat16(floatOf(0x00008000u)), 0x0000);
  EXPECT_EQ(floatToBFloat16(floatOf(0x00018000u)), 0x0002);
  EXPECT_EQ(floatToBFloat16(floatOf(0x00010001u)), 0x0001);
}

TEST(BFloat16, OverflowAndSpecials) {
  EXPECT_EQ(floatToBFloat16(INFINITY), 0x7f80);
  EXPECT_EQ(floatToBFloat16(-INFINITY), 0xff80);
  // The largest float rounds up to infinity; the largest bf16 stays.
  EXPECT_EQ(floatToBFloat16(floatOf(0x7f7fffffu)), 0x7f80);
  EXPECT_EQ(floatToBFloat16(floatOf(0x7f7f0000u)), 0x7f7f);
  EXPECT_EQ(floatToBFloat16(floatOf(0x7f7f7fffu)), 0x7f7f);
  EXPECT_EQ(floatToBFloat16(floatOf(0x7f7f8000u)), 0x7f80); // tie to even
}

TEST(BFloat16, NaNStaysNaN) {
  for (uint32_t bits : {0x7fc00000u, 0xffc00000u, 0x7f800001u, 0x7fbfffffu,
                        0xff800001u, 0x7fffffffu, 0x7f80ffffu}) {
    uint16_t b = floatToBFloat16(floatOf(bits));
    EXPECT_TRUE(std::isnan(bfloat16ToFloat(b))) << std::hex << bits;
    EXPECT_EQ(b & 0x8000, (bits >> 16) & 0x8000) << std::hex << bits;
    EXPECT_NE(b & 0x0040, 0) << "not quiet: " << std::hex << bits;
  }
}

TEST(BFloat16, ToFloatIsExactForAllValues) {
  for (uint32_t b = 0; b < 0x10000; ++b) {
    float f = bfloat16ToFloat(static_cast<uint16_t>(b));
    EXPECT_EQ(bitsOf(f), b << 16);
    if (!std::isnan(f)) {
      ASSERT_EQ(floatToBFloat16(f), b);
    }
  }
}

} // namespace
