#pragma once
// A minimal std::expected stand-in (std::expected is C++23; the project is C++20).
// Routine failures at library boundaries are returned as values of this type.
#include <cassert>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace fulfil {

template <class E>
struct Unexpected {
  E error;
};

template <class E>
Unexpected<std::decay_t<E>> unexpected(E&& e) {
  return {std::forward<E>(e)};
}

template <class T, class E>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  template <class G>
  Expected(Unexpected<G> u) : v_(std::in_place_index<1>, std::move(u.error)) {}

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & {
    assert(has_value());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const E& error() const {
    assert(!has_value());
    return std::get<1>(v_);
  }
  template <class U>
  T value_or(U&& fallback) && {
    return has_value() ? std::get<0>(std::move(v_)) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, E> v_;
};

template <class E>
class [[nodiscard]] Expected<void, E> {
 public:
  Expected() = default;
  template <class G>
  Expected(Unexpected<G> u) : e_(std::move(u.error)) {}

  bool has_value() const { return !e_.has_value(); }
  explicit operator bool() const { return has_value(); }
  const E& error() const {
    assert(e_.has_value());
    return *e_;
  }

 private:
  std::optional<E> e_;
};

}  // namespace fulfil
