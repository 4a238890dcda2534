#include "config/log.hpp"

#include <cxxabi.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <typeinfo>

namespace fulfil::log {
namespace {

std::atomic<Level> g_level{Level::info};

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (unsigned char c : v)
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7f) return true;
  return false;
}

// Values are quoted and escaped so a hostile string (a customer name, a barcode)
// can never forge a second log line or a fake field.
void append_value(std::string& out, std::string_view v) {
  if (!needs_quotes(v)) {
    out += v;
    return;
  }
  out += '"';
  for (unsigned char c : v) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          static const char* hex = "0123456789abcdef";
          out += "\\x";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

int syslog_priority(Level l) {
  switch (l) {
    case Level::debug:
      return 7;
    case Level::info:
      return 6;
    case Level::warn:
      return 4;
    case Level::error:
      return 3;
  }
  return 6;
}

}  // namespace

void set_level(Level level) {
  g_level.store(level);
}
Level level() {
  return g_level.load();
}

bool parse_level(std::string_view text, Level& out) {
  static constexpr Level all[] = {Level::debug, Level::info, Level::warn, Level::error};
  for (Level l : all)
    if (level_name(l) == text) {
      out = l;
      return true;
    }
  return false;
}

std::string_view level_name(Level level) {
  switch (level) {
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warn:
      return "warn";
    case Level::error:
      return "error";
  }
  return "info";
}

std::string format(Level level, std::string_view component, std::string_view message,
                   std::initializer_list<Field> fields) {
  std::string line;
  line.reserve(96);
  line += "level=";
  line += level_name(level);
  line += " component=";
  append_value(line, component);
  line += " msg=";
  append_value(line, message);
  for (const Field& f : fields) {
    line += ' ';
    line += f.key;
    line += '=';
    append_value(line, f.value);
  }
  return line;
}

void write(Level level, std::string_view component, std::string_view message,
           std::initializer_list<Field> fields) {
  if (level < g_level.load()) return;
  static const bool journald = std::getenv("JOURNAL_STREAM") != nullptr;
  std::string line;
  if (journald) {
    line = "<" + std::to_string(syslog_priority(level)) + ">";
  }
  line += format(level, component, message, fields);
  line += '\n';
  // One write(2) per line keeps lines whole when several processes share stderr.
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace fulfil::log

namespace fulfil::log {
namespace {

std::string g_terminate_component = "process";

std::string demangled(const char* name) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(name, nullptr, nullptr, &status),
                                             std::free);
  return status == 0 && out ? out.get() : name;
}

[[noreturn]] void log_and_abort() {
  std::string type = "none", what = "std::terminate was called with no exception in flight";
  if (const auto current = std::current_exception()) {
    try {
      std::rethrow_exception(current);
    } catch (const std::exception& e) {
      type = demangled(typeid(e).name());
      what = e.what();
    } catch (...) {
      const auto* t = abi::__cxa_current_exception_type();
      type = t ? demangled(t->name()) : "unknown";
      what = "(not a std::exception)";
    }
  }
  write(Level::error, g_terminate_component,
        "terminating: an exception escaped (a bug); the service manager restarts the process",
        {{"exception", type}, {"what", what}});
  std::abort();
}

}  // namespace

void install_terminate_handler(std::string_view component) {
  g_terminate_component = std::string(component);
  std::set_terminate(log_and_abort);
}

}  // namespace fulfil::log
