#pragma once
// One line per event on stderr: `level=info component=orders msg="..." key=value ...`.
// Under systemd (JOURNAL_STREAM set) each line is prefixed with its syslog priority
// (`<6>`) so journald records the right level without a logging library.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace fulfil::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  template <class N>
  requires std::is_arithmetic_v<N> Field(std::string_view k, N v)
      : key(k), value(std::to_string(v)) {}
  std::string_view key;
  std::string value;
};

void set_level(Level level);
Level level();
bool parse_level(std::string_view text, Level& out);
std::string_view level_name(Level level);

// Formats one event line (without the trailing newline); exposed for tests.
std::string format(Level level, std::string_view component, std::string_view message,
                   std::initializer_list<Field> fields);
void write(Level level, std::string_view component, std::string_view message,
           std::initializer_list<Field> fields = {});

// Makes std::terminate (an exception nobody caught: a bug) log one structured error line
// naming the exception's type and message, component `component`, before the abort, instead
// of the C++ runtime's unstructured "terminate called after...".
void install_terminate_handler(std::string_view component);

inline void debug(std::string_view c, std::string_view m, std::initializer_list<Field> f = {}) {
  if (level() <= Level::debug) write(Level::debug, c, m, f);
}
inline void info(std::string_view c, std::string_view m, std::initializer_list<Field> f = {}) {
  write(Level::info, c, m, f);
}
inline void warn(std::string_view c, std::string_view m, std::initializer_list<Field> f = {}) {
  write(Level::warn, c, m, f);
}
inline void error(std::string_view c, std::string_view m, std::initializer_list<Field> f = {}) {
  write(Level::error, c, m, f);
}

}  // namespace fulfil::log
