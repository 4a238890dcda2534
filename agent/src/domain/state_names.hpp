#pragma once
// Internal to the domain: an enum's names as a table indexed by the enum (each table
// static_asserted against its enum where it is defined), and the guard an UPDATE of a
// state column gets from a table of the states each change may leave.
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace fulfil::agent {

template <class Enum, class Names>
std::string_view name_in(const Names& names, Enum value) {
  return names[static_cast<std::size_t>(value)];
}

template <class Enum, class Names>
std::optional<Enum> value_in(const Names& names, std::string_view name) {
  for (std::size_t i = 0; i < names.size(); ++i)
    if (name == names[i]) return static_cast<Enum>(i);
  return std::nullopt;
}

// A table's names joined for a refusal that lists the valid ones ("closing_early,
// short_staffed, ..."); `name` picks the name out of a table of records.
template <class Names, class Name = std::identity>
std::string joined_names(const Names& names, Name name = {}) {
  std::string out;
  for (const auto& entry : names) {
    if (!out.empty()) out += ", ";
    out += std::string_view(name(entry));
  }
  return out;
}

// " AND state IN (...)" for the step of `steps` (each {to, from: an SQL list}) that leads
// to `to`; " AND 0" (nothing matches) when none does.
template <class Steps, class Enum>
std::string may_leave(const Steps& steps, Enum to) {
  for (const auto& step : steps)
    if (step.to == to) return " AND state IN " + std::string(step.from);
  return " AND 0";
}

}  // namespace fulfil::agent
