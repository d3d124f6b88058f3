// How arguments travel through the async queue. The caller copies each
// argument as bytes; the backend rebuilds it and formats the message there.
//
// Built in:
//   - arithmetic types, enums, pointers: copied as they are;
//   - strings (std::string, std::string_view, const char*, char arrays):
//     copied by value, since the caller's buffer may die;
//   - any type with a hydra::Codec specialisation (below).
// Any other type (anything {fmt} can format) is formatted on the calling
// thread instead: correct, but it costs the caller the formatting. Give hot
// user types a Codec to keep that cost on the backend:
//
//   template <> struct hydra::Codec<Point> {
//     using decoded_type = Point;  // what the backend formats (needs a fmt::formatter)
//     static std::size_t encoded_size(const Point&) { return sizeof(Point); }
//     static void encode(std::byte* out, const Point& p) { std::memcpy(out, &p, sizeof p); }
//     static Point decode(const std::byte* in) { Point p; std::memcpy(&p, in, sizeof p); return p;
//     }
//   };
//
// encode writes exactly encoded_size bytes; decode reads them back (the bytes
// need not be aligned). decoded_type may be a view into the bytes: it is used
// only while the record is formatted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

namespace hydra {

template <typename T>
struct Codec;  // specialise for your types

namespace detail {

template <typename T>
using bare_t = std::remove_cvref_t<std::decay_t<T>>;

template <typename T>
concept StringArg = std::is_convertible_v<const T&, std::string_view>;

template <typename T>
concept TrivialArg = (std::is_arithmetic_v<bare_t<T>> || std::is_enum_v<bare_t<T>> ||
                      std::is_pointer_v<bare_t<T>> ||
                      std::is_null_pointer_v<bare_t<T>>)&&!StringArg<T>;

template <typename T>
concept CodecArg = requires(const bare_t<T>& v, std::byte* out, const std::byte* in) {
  typename Codec<bare_t<T>>::decoded_type;
  { Codec<bare_t<T>>::encoded_size(v) } -> std::convertible_to<std::size_t>;
  Codec<bare_t<T>>::encode(out, v);
  { Codec<bare_t<T>>::decode(in) } -> std::convertible_to<typename Codec<bare_t<T>>::decoded_type>;
};

// Whether T can be queued as bytes (otherwise the call formats on the caller).
template <typename T>
inline constexpr bool kQueueable = StringArg<T> || TrivialArg<T> || CodecArg<T>;

template <typename T>
struct Decoded {
  using type = bare_t<T>;
};
template <StringArg T>
struct Decoded<T> {
  using type = std::string_view;
};
template <CodecArg T>
requires(!StringArg<T> && !TrivialArg<T>) struct Decoded<T> {
  using type = typename Codec<bare_t<T>>::decoded_type;
};
template <typename T>
using decoded_t = typename Decoded<T>::type;

template <typename T>
std::size_t encoded_size(const T& v) noexcept {
  if constexpr (StringArg<T>) {
    return sizeof(std::uint32_t) + std::string_view(v).size();
  } else if constexpr (TrivialArg<T>) {
    return sizeof(bare_t<T>);
  } else {
    return sizeof(std::uint32_t) + Codec<bare_t<T>>::encoded_size(v);
  }
}

template <typename T>
void encode(std::byte*& out, const T& v) noexcept {
  if constexpr (StringArg<T>) {
    const std::string_view s(v);
    const auto n = static_cast<std::uint32_t>(s.size());
    std::memcpy(out, &n, sizeof(n));
    if (n != 0) std::memcpy(out + sizeof(n), s.data(), n);
    out += sizeof(n) + n;
  } else if constexpr (TrivialArg<T>) {
    const bare_t<T> copy = v;
    std::memcpy(out, &copy, sizeof(copy));
    out += sizeof(copy);
  } else {
    const auto n = static_cast<std::uint32_t>(Codec<bare_t<T>>::encoded_size(v));
    std::memcpy(out, &n, sizeof(n));
    Codec<bare_t<T>>::encode(out + sizeof(n), v);
    out += sizeof(n) + n;
  }
}

template <typename T>
decoded_t<T> decode(const std::byte*& in) noexcept {
  if constexpr (StringArg<T>) {
    std::uint32_t n = 0;
    std::memcpy(&n, in, sizeof(n));
    const auto* chars = reinterpret_cast<const char*>(in + sizeof(n));
    in += sizeof(n) + n;
    return std::string_view(chars, n);
  } else if constexpr (TrivialArg<T>) {
    bare_t<T> v;
    std::memcpy(&v, in, sizeof(v));
    in += sizeof(v);
    return v;
  } else {
    std::uint32_t n = 0;  // written by encode, so decode needs no size of its own
    std::memcpy(&n, in, sizeof(n));
    auto v = Codec<bare_t<T>>::decode(in + sizeof(n));
    in += sizeof(n) + n;
    return v;
  }
}

}  // namespace detail
}  // namespace hydra
