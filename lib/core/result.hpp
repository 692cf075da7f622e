// Result<T>: the return type of every fallible call in lib/.
//
// Contract: lib/ never throws on its paths; a call that can fail returns a
// Result holding either a value or an Error (a message for humans). The fast
// path does not use Result at all: there, a failure is a counted drop.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace dpdkstack {

struct Error {
  std::string message;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}           // NOLINT(implicit)
  Result(Error error) : v_(std::move(error)) {}       // NOLINT(implicit)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

struct Unit {};
using Status = Result<Unit>;
inline Status ok_status() { return Unit{}; }

}  // namespace dpdkstack
