//===- Npy.cpp - Minimal .npy reader/writer -------------------------------===//
//
// See Npy.h for the format (NumPy's numpy/lib/format.py, NEP 1) and the error
// contract. Plain C++17 plus POSIX (mkstemp, rename); no exceptions.
//
//===----------------------------------------------------------------------===//

#include "Npy.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace attnflow {
namespace npy {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;
/// numpy.lib.format.ARRAY_ALIGN: the data starts at a multiple of this.
constexpr size_t kArrayAlign = 64;
/// numpy.lib.format.GROWTH_AXIS_MAX_DIGITS: numpy.save pads the header so the
/// first dimension can grow in place.
constexpr size_t kGrowthAxisMaxDigits = 21;
/// numpy.lib.format._MAX_HEADER_SIZE: numpy refuses larger headers by default.
constexpr size_t kMaxHeaderSize = 10000;

std::string quoteForMessage(const std::string &s) {
  std::string out = "'";
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  out += "'";
  return out;
}

//===----------------------------------------------------------------------===//
// A tiny parser for the Python dict literal of the header.
//===----------------------------------------------------------------------===//

/// A parsed Python literal value. Only what .npy headers contain.
struct Value {
  enum Kind { String, Bool, Int, Tuple, Other } kind = Other;
  std::string str;             // String
  bool boolean = false;        // Bool
  int64_t integer = 0;         // Int
  std::vector<Value> elements; // Tuple
  bool tupleHadComma = false;  // "(3)" is an int in Python, "(3,)" a tuple
  std::string text;            // the raw source text, for messages
};

class HeaderParser {
public:
  explicit HeaderParser(const std::string &s) : s(s) {}

  bool parseDict(std::vector<std::pair<std::string, Value>> &entries,
                 std::string &error) {
    skipSpace();
    if (!consume('{'))
      return fail("header is not a Python dict literal", error);
    while (true) {
      skipSpace();
      if (consume('}'))
        break;
      Value key;
      if (!parseValue(key, error))
        return false;
      if (key.kind != Value::String)
        return fail("header dict key is not a string", error);
      skipSpace();
      if (!consume(':'))
        return fail("expected ':' in header dict", error);
      Value value;
      if (!parseValue(value, error))
        return false;
      entries.emplace_back(key.str, std::move(value));
      skipSpace();
      if (consume(','))
        continue;
      skipSpace();
      if (consume('}'))
        break;
      return fail("expected ',' or '}' in header dict", error);
    }
    skipSpace();
    if (pos != s.size())
      return fail("unexpected text after the header dict", error);
    return true;
  }

private:
  bool fail(const char *msg, std::string &error) {
    error = msg;
    return false;
  }

  void skipSpace() {
    while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t' ||
                              s[pos] == '\n' || s[pos] == '\r'))
      ++pos;
  }

  bool consume(char c) {
    if (pos < s.size() && s[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }

  bool parseValue(Value &v, std::string &error) {
    skipSpace();
    if (pos >= s.size())
      return fail("header ends unexpectedly", error);
    size_t start = pos;
    char c = s[pos];
    bool ok;
    if (c == '\'' || c == '"')
      ok = parseString(v, error);
    else if (c == '(' || c == '[')
      ok = parseSequence(v, error);
    else if (c == '-' || (c >= '0' && c <= '9'))
      ok = parseInt(v, error);
    else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_')
      ok = parseName(v, error);
    else
      return fail("unexpected character in header", error);
    if (!ok)
      return false;
    v.text = s.substr(start, pos - start);
    return true;
  }

  bool parseString(Value &v, std::string &error) {
    char quote = s[pos++];
    v.kind = Value::String;
    while (pos < s.size() && s[pos] != quote) {
      if (s[pos] == '\\' && pos + 1 < s.size())
        ++pos;
      v.str += s[pos++];
    }
    if (!consume(quote))
      return fail("unterminated string in header", error);
    return true;
  }

  bool parseInt(Value &v, std::string &error) {
    bool negative = consume('-');
    if (pos >= s.size() || !(s[pos] >= '0' && s[pos] <= '9'))
      return fail("malformed integer in header", error);
    uint64_t value = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      unsigned digit = static_cast<unsigned>(s[pos++] - '0');
      if (value >
          (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - digit) /
              10)
        return fail("integer in header is too large", error);
      value = value * 10 + digit;
    }
    // Python 2 longs ("3L"); numpy's _filter_header drops the suffix too.
    if (pos < s.size() && (s[pos] == 'L' || s[pos] == 'l'))
      ++pos;
    v.kind = Value::Int;
    v.integer =
        negative ? -static_cast<int64_t>(value) : static_cast<int64_t>(value);
    return true;
  }

  bool parseName(Value &v, std::string &error) {
    size_t start = pos;
    while (pos < s.size() &&
           (std::isalnum(static_cast<unsigned char>(s[pos])) || s[pos] == '_' ||
            s[pos] == '.'))
      ++pos;
    std::string name = s.substr(start, pos - start);
    if (name == "True" || name == "False") {
      v.kind = Value::Bool;
      v.boolean = name == "True";
      return true;
    }
    // Something else (None, a call like np.int64(3), ...): keep it as text,
    // including a parenthesized argument list, for the error message.
    v.kind = Value::Other;
    skipSpace();
    if (pos < s.size() && s[pos] == '(') {
      Value args;
      if (!parseSequence(args, error))
        return false;
      v.kind = Value::Other;
    }
    return true;
  }

  bool parseSequence(Value &v, std::string &error) {
    char open = s[pos++];
    char close = open == '(' ? ')' : ']';
    v.kind = open == '(' ? Value::Tuple : Value::Other;
    while (true) {
      skipSpace();
      if (consume(close))
        break;
      Value element;
      if (!parseValue(element, error))
        return false;
      v.elements.push_back(std::move(element));
      skipSpace();
      if (consume(',')) {
        v.tupleHadComma = true;
        continue;
      }
      skipSpace();
      if (consume(close))
        break;
      return fail("expected ',' or a closing bracket in header", error);
    }
    // "(x)" is just a parenthesized value in Python, not a tuple.
    if (v.kind == Value::Tuple && v.elements.size() == 1 && !v.tupleHadComma) {
      Value inner = v.elements[0];
      v = inner;
    }
    return true;
  }

  const std::string &s;
  size_t pos = 0;
};

bool parseDescr(const std::string &descr, DType &type, std::string &why) {
  if (descr.size() >= 2) {
    char order = descr[0];
    std::string code = descr.substr(1);
    bool supportedCode = code == "f8" || code == "f4" || code == "f2" ||
                         code == "i8" || code == "i4" || code == "b1";
    if (supportedCode && order == '>' && code != "b1") {
      why = "big-endian data is not supported";
      return false;
    }
    if (supportedCode && (order == '<' || order == '>' || order == '|')) {
      if (code == "b1") {
        type = DType::Bool;
        return true;
      }
      if (order == '<') {
        if (code == "f8")
          type = DType::F64;
        else if (code == "f4")
          type = DType::F32;
        else if (code == "f2")
          type = DType::F16;
        else if (code == "i8")
          type = DType::I64;
        else
          type = DType::I32;
        return true;
      }
    }
  }
  why = "unsupported dtype";
  return false;
}

bool checkedMul(int64_t a, int64_t b, int64_t &out) {
  if (a != 0 && b > std::numeric_limits<int64_t>::max() / a)
    return false;
  out = a * b;
  return true;
}

bool byteCount(DType type, const std::vector<int64_t> &shape, int64_t &bytes) {
  int64_t n = static_cast<int64_t>(dtypeSize(type));
  for (int64_t d : shape) {
    if (d < 0 || !checkedMul(n, d, n))
      return false;
  }
  bytes = n;
  return true;
}

std::string osError(int err) { return std::strerror(err); }

std::string directoryOf(const std::string &path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos)
    return ".";
  if (slash == 0)
    return "/";
  return path.substr(0, slash);
}

} // namespace

//===----------------------------------------------------------------------===//
// DType helpers.
//===----------------------------------------------------------------------===//

size_t dtypeSize(DType type) {
  switch (type) {
  case DType::F64:
  case DType::I64:
    return 8;
  case DType::F32:
  case DType::I32:
    return 4;
  case DType::F16:
    return 2;
  case DType::Bool:
    return 1;
  }
  return 0;
}

const char *dtypeDescr(DType type) {
  switch (type) {
  case DType::F64:
    return "<f8";
  case DType::F32:
    return "<f4";
  case DType::F16:
    return "<f2";
  case DType::I64:
    return "<i8";
  case DType::I32:
    return "<i4";
  case DType::Bool:
    return "|b1";
  }
  return "?";
}

const char *dtypeName(DType type) {
  switch (type) {
  case DType::F64:
    return "float64";
  case DType::F32:
    return "float32";
  case DType::F16:
    return "float16";
  case DType::I64:
    return "int64";
  case DType::I32:
    return "int32";
  case DType::Bool:
    return "bool";
  }
  return "?";
}

int64_t Array::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::string formatShape(const std::vector<int64_t> &shape) {
  std::string out = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      out += ", ";
    out += std::to_string(shape[i]);
  }
  if (shape.size() == 1)
    out += ",";
  out += ")";
  return out;
}

//===----------------------------------------------------------------------===//
// Reading.
//===----------------------------------------------------------------------===//

bool parseNpy(const void *bytesPtr, size_t size, const std::string &name,
              Array &out, std::string &error) {
  const auto *bytes = static_cast<const uint8_t *>(bytesPtr);
  auto fail = [&](const std::string &msg) {
    error = name + ": " + msg;
    return false;
  };
  if (size < kMagicLen + 2 || std::memcmp(bytes, kMagic, kMagicLen) != 0)
    return fail("not a .npy file (missing the \\x93NUMPY magic string)");
  unsigned major = bytes[kMagicLen], minor = bytes[kMagicLen + 1];
  size_t lenBytes;
  if (major == 1 && minor == 0)
    lenBytes = 2;
  else if ((major == 2 || major == 3) && minor == 0)
    lenBytes = 4;
  else
    return fail("unsupported .npy format version " + std::to_string(major) +
                "." + std::to_string(minor) + " (supported: 1.0, 2.0, 3.0)");
  size_t prefix = kMagicLen + 2 + lenBytes;
  if (size < prefix)
    return fail("truncated .npy file (header length missing)");
  size_t headerLen = 0;
  for (size_t i = 0; i < lenBytes; ++i)
    headerLen |= static_cast<size_t>(bytes[kMagicLen + 2 + i]) << (8 * i);
  if (headerLen > kMaxHeaderSize)
    return fail("header of " + std::to_string(headerLen) +
                " bytes is larger than NumPy's limit of " +
                std::to_string(kMaxHeaderSize));
  if (size - prefix < headerLen)
    return fail("truncated .npy file (header of " + std::to_string(headerLen) +
                " bytes, only " + std::to_string(size - prefix) + " present)");
  // Latin-1 (1.0/2.0) and UTF-8 (3.0) agree on the ASCII the header needs;
  // other bytes can only appear inside strings and end up in error messages.
  std::string header(reinterpret_cast<const char *>(bytes + prefix), headerLen);

  std::vector<std::pair<std::string, Value>> entries;
  std::string why;
  HeaderParser parser(header);
  if (!parser.parseDict(entries, why))
    return fail("malformed .npy header: " + why);

  const Value *descr = nullptr, *fortran = nullptr, *shape = nullptr;
  for (auto &entry : entries) {
    const Value **slot = entry.first == "descr"           ? &descr
                         : entry.first == "fortran_order" ? &fortran
                         : entry.first == "shape"         ? &shape
                                                          : nullptr;
    if (!slot)
      return fail("malformed .npy header: unexpected key " +
                  quoteForMessage(entry.first));
    if (*slot)
      return fail("malformed .npy header: duplicate key " +
                  quoteForMessage(entry.first));
    *slot = &entry.second;
  }
  if (!descr || !fortran || !shape)
    return fail("malformed .npy header: it needs the keys 'descr', "
                "'fortran_order' and 'shape'");

  if (descr->kind != Value::String)
    return fail("unsupported dtype " + descr->text +
                " (structured dtypes are not supported; supported: <f8 <f4 "
                "<f2 <i8 <i4 |b1)");
  if (!parseDescr(descr->str, out.dtype, why))
    return fail(why + " " + quoteForMessage(descr->str) +
                " (supported: <f8 <f4 <f2 <i8 <i4 |b1)");

  if (fortran->kind != Value::Bool)
    return fail("malformed .npy header: fortran_order is not True/False: " +
                fortran->text);
  if (fortran->boolean)
    return fail("fortran_order=True (column-major) arrays are not supported; "
                "save a C-contiguous array (numpy.ascontiguousarray)");

  if (shape->kind != Value::Tuple)
    return fail("malformed .npy header: shape is not a tuple of ints: " +
                shape->text);
  out.shape.clear();
  for (const Value &dim : shape->elements) {
    if (dim.kind != Value::Int || dim.integer < 0)
      return fail("malformed .npy header: shape is not a tuple of "
                  "non-negative ints: " +
                  shape->text);
    out.shape.push_back(dim.integer);
  }

  int64_t dataBytes;
  if (!byteCount(out.dtype, out.shape, dataBytes))
    return fail("array of shape " + formatShape(out.shape) + " is too large");
  size_t available = size - prefix - headerLen;
  if (static_cast<uint64_t>(dataBytes) > available)
    return fail("truncated .npy file: shape " + formatShape(out.shape) +
                " of " + dtypeName(out.dtype) + " needs " +
                std::to_string(dataBytes) + " data bytes, the file has " +
                std::to_string(available));
  if (static_cast<uint64_t>(dataBytes) < available)
    return fail(std::to_string(available - dataBytes) +
                " unexpected trailing bytes after the data of shape " +
                formatShape(out.shape) + " of " + dtypeName(out.dtype));
  const uint8_t *data = bytes + prefix + headerLen;
  out.data.assign(data, data + dataBytes);
  return true;
}

bool readNpy(const std::string &path, Array &out, std::string &error) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f) {
    error = path + ": cannot open: " + osError(errno);
    return false;
  }
  std::vector<uint8_t> bytes;
  uint8_t buffer[1 << 16];
  bool ok = true;
  while (true) {
    size_t n = std::fread(buffer, 1, sizeof(buffer), f);
    bytes.insert(bytes.end(), buffer, buffer + n);
    if (n < sizeof(buffer)) {
      if (std::ferror(f)) {
        error = path + ": cannot read: " + osError(errno);
        ok = false;
      }
      break;
    }
  }
  std::fclose(f);
  if (!ok)
    return false;
  return parseNpy(bytes.data(), bytes.size(), path, out, error);
}

//===----------------------------------------------------------------------===//
// Writing.
//===----------------------------------------------------------------------===//

bool encodeNpy(DType type, const std::vector<int64_t> &shape, const void *data,
               std::vector<uint8_t> &out, std::string &error) {
  int64_t dataBytes;
  if (!byteCount(type, shape, dataBytes)) {
    error = "cannot encode an array of shape " + formatShape(shape);
    return false;
  }
  // Exactly numpy.lib.format._write_array_header: keys sorted, repr()
  // values, spare spaces for growing the first axis, then padding so that
  // magic + length + header (ending in '\n') is a multiple of ARRAY_ALIGN.
  std::string header =
      std::string("{'descr': '") + dtypeDescr(type) +
      "', 'fortran_order': False, 'shape': " + formatShape(shape) + ", }";
  if (!shape.empty())
    header.append(kGrowthAxisMaxDigits - std::to_string(shape[0]).size(), ' ');
  size_t headerLen = header.size() + 1; // + '\n'
  size_t lenBytes = 2;
  unsigned major = 1;
  size_t pad =
      kArrayAlign - (kMagicLen + 2 + lenBytes + headerLen) % kArrayAlign;
  if (headerLen + pad > 0xffff) {
    lenBytes = 4;
    major = 2;
    pad = kArrayAlign - (kMagicLen + 2 + lenBytes + headerLen) % kArrayAlign;
  }
  header.append(pad, ' ');
  header += '\n';

  out.clear();
  out.reserve(kMagicLen + 2 + lenBytes + header.size() +
              static_cast<size_t>(dataBytes));
  out.insert(out.end(), kMagic, kMagic + kMagicLen);
  out.push_back(static_cast<uint8_t>(major));
  out.push_back(0);
  for (size_t i = 0; i < lenBytes; ++i)
    out.push_back(static_cast<uint8_t>((header.size() >> (8 * i)) & 0xff));
  out.insert(out.end(), header.begin(), header.end());
  const auto *bytes = static_cast<const uint8_t *>(data);
  if (dataBytes)
    out.insert(out.end(), bytes, bytes + dataBytes);
  return true;
}

bool writeNpy(const std::string &path, DType type,
              const std::vector<int64_t> &shape, const void *data,
              std::string &error) {
  std::vector<uint8_t> bytes;
  if (!encodeNpy(type, shape, data, bytes, error)) {
    error = path + ": " + error;
    return false;
  }
  // A temporary file next to the destination, so the rename is atomic.
  std::string dir = directoryOf(path);
  std::string tmpl = path + ".tmp.XXXXXX";
  std::vector<char> tmpName(tmpl.begin(), tmpl.end());
  tmpName.push_back('\0');
  int fd = ::mkstemp(tmpName.data());
  if (fd < 0) {
    error = path + ": cannot create a temporary file in " + dir + ": " +
            osError(errno);
    return false;
  }
  std::string tmpPath(tmpName.data());
  auto failAndClean = [&](const std::string &what, int err) {
    error = path + ": " + what + ": " + osError(err);
    ::unlink(tmpPath.c_str());
    return false;
  };
  // mkstemp creates the file 0600; numpy.save (open(..., "wb")) gives
  // 0666 & ~umask.
  mode_t mask = ::umask(0);
  ::umask(mask);
  if (::fchmod(fd, 0666 & ~mask) != 0) {
    int err = errno;
    ::close(fd);
    return failAndClean("cannot set permissions", err);
  }
  size_t written = 0;
  while (written < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      int err = errno;
      ::close(fd);
      return failAndClean("cannot write", err);
    }
    written += static_cast<size_t>(n);
  }
  if (::close(fd) != 0)
    return failAndClean("cannot write", errno);
  if (::rename(tmpPath.c_str(), path.c_str()) != 0)
    return failAndClean("cannot rename the temporary file into place", errno);
  return true;
}

bool writeNpy(const std::string &path, const Array &array, std::string &error) {
  int64_t dataBytes;
  if (!byteCount(array.dtype, array.shape, dataBytes) ||
      static_cast<uint64_t>(dataBytes) != array.data.size()) {
    error = path + ": array data size does not match shape " +
            formatShape(array.shape);
    return false;
  }
  return writeNpy(path, array.dtype, array.shape, array.data.data(), error);
}

//===----------------------------------------------------------------------===//
// Scalar conversions.
//===----------------------------------------------------------------------===//

namespace {
uint32_t floatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  return u;
}
float bitsFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof(f));
  return f;
}
} // namespace

float halfToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  if (exp == 0x1f) // inf / NaN: keep the payload
    return bitsFloat(sign | 0x7f800000u | (mant << 13));
  if (exp == 0) {
    if (mant == 0)
      return bitsFloat(sign);
    // Subnormal: mant * 2^-24, exact in float.
    float magnitude = static_cast<float>(mant) * 5.9604644775390625e-8f;
    return sign ? -magnitude : magnitude;
  }
  return bitsFloat(sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t floatToHalf(float value) {
  uint32_t u = floatBits(value);
  uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  uint32_t absBits = u & 0x7fffffffu;
  if (absBits > 0x7f800000u) // NaN: quiet, keep the top payload bits
    return static_cast<uint16_t>(sign | 0x7e00u | ((absBits >> 13) & 0x3ffu));
  if (absBits >= 0x477ff000u) // >= 65520 rounds to infinity (or is inf)
    return static_cast<uint16_t>(sign | 0x7c00u);
  if (absBits < 0x38800000u) {
    // Below the smallest normal half (2^-14): result is subnormal or zero.
    // Compute round(|x| * 2^24) with ties to even, exactly: |x| = m * 2^(e-150)
    // with the implicit bit, so shift m right by (126 - e) - 24 + ... .
    uint32_t exp = absBits >> 23;
    if (exp < 102) // |x| < 2^-25: rounds to zero (2^-25 itself is a tie -> 0)
      return sign;
    uint32_t mant = (absBits & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126 - exp; // 14..24: value * 2^24 = mant >> shift
    uint32_t result = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1);
    uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (result & 1)))
      ++result;
    return static_cast<uint16_t>(sign | result);
  }
  // Normal: rebias the exponent, round the 13 dropped bits to nearest even.
  // A carry out of the mantissa correctly bumps the exponent.
  uint32_t rebased = absBits - (112u << 23);
  uint32_t result = rebased >> 13;
  uint32_t rem = rebased & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (result & 1)))
    ++result;
  return static_cast<uint16_t>(sign | result);
}

float bfloat16ToFloat(uint16_t bits) {
  return bitsFloat(static_cast<uint32_t>(bits) << 16);
}

uint16_t floatToBFloat16(float value) {
  uint32_t u = floatBits(value);
  if ((u & 0x7fffffffu) > 0x7f800000u) // NaN: keep sign, force quiet
    return static_cast<uint16_t>((u >> 16) | 0x40u);
  uint32_t lsb = (u >> 16) & 1u;
  u += 0x7fffu + lsb; // ties to even; overflow carries into inf correctly
  return static_cast<uint16_t>(u >> 16);
}

} // namespace npy
} // namespace attnflow
