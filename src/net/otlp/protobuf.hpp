// The protobuf wire format (protobuf.dev/programming-guides/encoding), as
// much of it as OTLP needs: a writer of varint, fixed64 and length-delimited
// fields, and a reader of a message's top-level fields. Internal to the
// `otlp` destination; no libprotobuf at run time.
#pragma once

#include <bit>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hydra::net::detail::protobuf {

enum WireType : std::uint32_t { varint = 0, i64 = 1, len = 2, i32 = 5 };

inline void put_varint(std::uint64_t v, std::string& out) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

inline void put_tag(std::uint32_t field, WireType type, std::string& out) {
  put_varint((std::uint64_t{field} << 3) | type, out);
}

// int64 and enum fields: a negative number as its two's complement (ten bytes).
inline void varint_field(std::uint32_t field, std::uint64_t v, std::string& out) {
  put_tag(field, varint, out);
  put_varint(v, out);
}

inline void fixed64_field(std::uint32_t field, std::uint64_t v, std::string& out) {
  put_tag(field, i64, out);
  for (int i = 0; i < 8; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

inline void double_field(std::uint32_t field, double v, std::string& out) {
  fixed64_field(field, std::bit_cast<std::uint64_t>(v), out);
}

// string, bytes and embedded message fields.
inline void bytes_field(std::uint32_t field, std::string_view bytes, std::string& out) {
  put_tag(field, len, out);
  put_varint(bytes.size(), out);
  out.append(bytes);
}

// Reads a message's fields one by one; stops (ok() false) at anything
// malformed.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  struct Field {
    std::uint32_t number = 0;
    WireType type = varint;
    std::uint64_t value = 0;  // varint, i64, i32
    std::string_view bytes;   // len
  };

  // The next field, or nothing at the end (or at an error: see ok()).
  std::optional<Field> next() {
    if (data_.empty() || !ok_) return std::nullopt;
    const auto tag = varint_value();
    if (!tag) return fail();
    Field f;
    f.number = static_cast<std::uint32_t>(*tag >> 3);
    f.type = static_cast<WireType>(*tag & 7);
    switch (f.type) {
      case varint: {
        const auto v = varint_value();
        if (!v) return fail();
        f.value = *v;
        return f;
      }
      case i64:
      case i32: {
        const std::size_t n = f.type == i64 ? 8 : 4;
        if (data_.size() < n) return fail();
        for (std::size_t i = 0; i < n; ++i) {
          f.value |= std::uint64_t{static_cast<unsigned char>(data_[i])} << (8 * i);
        }
        data_.remove_prefix(n);
        return f;
      }
      case len: {
        const auto n = varint_value();
        if (!n || *n > data_.size()) return fail();
        f.bytes = data_.substr(0, *n);
        data_.remove_prefix(*n);
        return f;
      }
    }
    return fail();
  }
  bool ok() const { return ok_; }

 private:
  std::optional<Field> fail() {
    ok_ = false;
    return std::nullopt;
  }
  std::optional<std::uint64_t> varint_value() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64 && !data_.empty(); shift += 7) {
      const auto b = static_cast<unsigned char>(data_.front());
      data_.remove_prefix(1);
      v |= std::uint64_t{b & 0x7fu} << shift;
      if ((b & 0x80) == 0) return v;
    }
    return std::nullopt;
  }

  std::string_view data_;
  bool ok_ = true;
};

}  // namespace hydra::net::detail::protobuf
