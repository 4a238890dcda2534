#include "codes/gs1.hpp"

#include <algorithm>
#include <array>

namespace fulfil::drivers {
namespace {

enum class Charset { numeric, cset82 };
enum class Meaning { none, check_digit, date, decimal };

struct AiSpec {
  std::string_view ai;  // for measures, the first 3 digits; the 4th is the decimal position
  std::string_view title;
  std::size_t min_len;
  std::size_t max_len;
  Charset charset;
  Meaning meaning;
};

// The AIs the store's scanners meet on goods, cases, pallets and shipping labels.
constexpr std::array<AiSpec, 40> kTable{{
    {"00", "SSCC", 18, 18, Charset::numeric, Meaning::check_digit},
    {"01", "GTIN", 14, 14, Charset::numeric, Meaning::check_digit},
    {"02", "CONTENT", 14, 14, Charset::numeric, Meaning::check_digit},
    {"10", "BATCH/LOT", 1, 20, Charset::cset82, Meaning::none},
    {"11", "PROD DATE", 6, 6, Charset::numeric, Meaning::date},
    {"12", "DUE DATE", 6, 6, Charset::numeric, Meaning::date},
    {"13", "PACK DATE", 6, 6, Charset::numeric, Meaning::date},
    {"15", "BEST BEFORE or BEST BY", 6, 6, Charset::numeric, Meaning::date},
    {"16", "SELL BY", 6, 6, Charset::numeric, Meaning::date},
    {"17", "USE BY OR EXPIRY", 6, 6, Charset::numeric, Meaning::date},
    {"20", "VARIANT", 2, 2, Charset::numeric, Meaning::none},
    {"21", "SERIAL", 1, 20, Charset::cset82, Meaning::none},
    {"22", "CPV", 1, 20, Charset::cset82, Meaning::none},
    {"240", "ADDITIONAL ID", 1, 30, Charset::cset82, Meaning::none},
    {"241", "CUST. PART No.", 1, 30, Charset::cset82, Meaning::none},
    {"250", "SECONDARY SERIAL", 1, 30, Charset::cset82, Meaning::none},
    {"30", "VAR. COUNT", 1, 8, Charset::numeric, Meaning::none},
    {"310", "NET WEIGHT (kg)", 6, 6, Charset::numeric, Meaning::decimal},
    {"311", "LENGTH (m)", 6, 6, Charset::numeric, Meaning::decimal},
    {"312", "WIDTH (m)", 6, 6, Charset::numeric, Meaning::decimal},
    {"313", "HEIGHT (m)", 6, 6, Charset::numeric, Meaning::decimal},
    {"314", "AREA (m2)", 6, 6, Charset::numeric, Meaning::decimal},
    {"315", "NET VOLUME (l)", 6, 6, Charset::numeric, Meaning::decimal},
    {"316", "NET VOLUME (m3)", 6, 6, Charset::numeric, Meaning::decimal},
    {"320", "NET WEIGHT (lb)", 6, 6, Charset::numeric, Meaning::decimal},
    {"330", "GROSS WEIGHT (kg)", 6, 6, Charset::numeric, Meaning::decimal},
    {"340", "GROSS WEIGHT (lb)", 6, 6, Charset::numeric, Meaning::decimal},
    {"356", "NET WEIGHT (t oz)", 6, 6, Charset::numeric, Meaning::decimal},
    {"357", "NET VOLUME (oz)", 6, 6, Charset::numeric, Meaning::decimal},
    {"37", "COUNT", 1, 8, Charset::numeric, Meaning::none},
    {"400", "ORDER NUMBER", 1, 30, Charset::cset82, Meaning::none},
    {"401", "GINC", 1, 30, Charset::cset82, Meaning::none},
    {"402", "GSIN", 17, 17, Charset::numeric, Meaning::check_digit},
    {"403", "ROUTE", 1, 30, Charset::cset82, Meaning::none},
    {"410", "SHIP TO LOC", 13, 13, Charset::numeric, Meaning::check_digit},
    {"411", "BILL TO", 13, 13, Charset::numeric, Meaning::check_digit},
    {"412", "PURCHASE FROM", 13, 13, Charset::numeric, Meaning::check_digit},
    {"413", "SHIP FOR LOC", 13, 13, Charset::numeric, Meaning::check_digit},
    {"414", "LOC No.", 13, 13, Charset::numeric, Meaning::check_digit},
    {"8200", "PRODUCT URL", 1, 70, Charset::cset82, Meaning::none},
}};
// 415 (PAY TO) shares 410's shape.
constexpr AiSpec kPayTo{"415", "PAY TO", 13, 13, Charset::numeric, Meaning::check_digit};

// AIs whose data length is fixed by the standard, so no FNC1 follows them (GS1 General
// Specifications, the table of predefined lengths), keyed by the AI's first two digits.
bool predefined_length(std::string_view ai) {
  static constexpr std::array<std::string_view, 20> prefixes{
      "00", "01", "02", "03", "04", "11", "12", "13", "14", "15",
      "16", "17", "18", "19", "20", "31", "32", "33", "34", "35"};
  const auto two = ai.substr(0, 2);
  return std::find(prefixes.begin(), prefixes.end(), two) != prefixes.end() || two == "36" ||
         two == "41";
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// GS1 AI encodable character set 82.
bool in_cset82(char c) {
  if (is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) return true;
  return std::string_view("!\"%&'()*+,-./:;<=>?_").find(c) != std::string_view::npos;
}

// The spec for the AI at the start of `s`, if the table knows one.
const AiSpec* lookup(std::string_view s, std::size_t& ai_len) {
  for (const auto& spec : kTable) {
    const bool measure = spec.meaning == Meaning::decimal;
    const std::size_t n = spec.ai.size() + (measure ? 1 : 0);
    if (s.size() >= n && s.substr(0, spec.ai.size()) == spec.ai &&
        (!measure || is_digit(s[spec.ai.size()]))) {
      ai_len = n;
      return &spec;
    }
  }
  if (s.substr(0, 3) == kPayTo.ai) {
    ai_len = 3;
    return &kPayTo;
  }
  return nullptr;
}

std::string describe_unknown(std::string_view s) {
  std::string digits;
  for (char c : s.substr(0, 4)) {
    if (!is_digit(c)) break;
    digits += c;
  }
  return digits.empty() ? "the data does not start with an Application Identifier"
                        : "unknown or unsupported Application Identifier starting '" + digits + "'";
}

Expected<std::optional<std::string>, std::string> date_of(std::string_view v) {
  const int yy = (v[0] - '0') * 10 + (v[1] - '0');
  const int mm = (v[2] - '0') * 10 + (v[3] - '0');
  const int dd = (v[4] - '0') * 10 + (v[5] - '0');
  if (mm < 1 || mm > 12)
    return unexpected("month " + std::string(v.substr(2, 2)) + " is not 01-12");
  // The GS1 century rule: a two-digit year lies within 49 years back and 50 ahead of now;
  // with the current century as the base it is good for the life of these codes.
  const int year = 2000 + yy;
  static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
  const int last = days[mm - 1] + (mm == 2 && leap ? 1 : 0);
  if (dd > last)
    return unexpected("day " + std::string(v.substr(4, 2)) + " does not exist in month " +
                      std::string(v.substr(2, 2)));
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year, mm, dd == 0 ? last : dd);
  return std::optional<std::string>(buf);
}

// Checks one AI's data; fills in what it means.
Expected<void, std::string> check_value(const AiSpec& spec, std::string_view ai, Gs1Element& e) {
  const auto& v = e.value;
  if (v.size() < spec.min_len || v.size() > spec.max_len)
    return unexpected(spec.min_len == spec.max_len
                          ? "must be " + std::to_string(spec.min_len) + " characters, not " +
                                std::to_string(v.size())
                          : "must be " + std::to_string(spec.min_len) + " to " +
                                std::to_string(spec.max_len) + " characters, not " +
                                std::to_string(v.size()));
  for (std::size_t i = 0; i < v.size(); ++i) {
    const bool ok = spec.charset == Charset::numeric ? is_digit(v[i]) : in_cset82(v[i]);
    if (!ok)
      return unexpected(
          "character " + std::to_string(i + 1) + " is not allowed here (" +
          (spec.charset == Charset::numeric ? "digits only" : "GS1 character set 82") + ")");
  }
  switch (spec.meaning) {
    case Meaning::check_digit: {
      const char expected = gs1_check_digit(std::string_view(v).substr(0, v.size() - 1));
      if (v.back() != expected)
        return unexpected(std::string("check digit is ") + v.back() + ", expected " + expected);
      break;
    }
    case Meaning::date: {
      auto d = date_of(v);
      if (!d) return unexpected(d.error());
      e.date = *d;
      break;
    }
    case Meaning::decimal: {
      const std::size_t places = static_cast<std::size_t>(ai.back() - '0');
      if (places > 6)
        return unexpected("decimal position " + std::to_string(places) + " is not 0-6");
      std::string number = v.substr(0, v.size() - places);
      number.erase(0, std::min(number.find_first_not_of('0'), number.size() - 1));
      if (number.empty()) number = "0";
      e.decimal = places ? number + "." + v.substr(v.size() - places) : number;
      break;
    }
    case Meaning::none:
      break;
  }
  return {};
}

Expected<Gs1Element, BarcodeError> element(const AiSpec& spec, std::string_view ai,
                                           std::string_view value) {
  Gs1Element e{std::string(ai), std::string(spec.title), std::string(value), {}, {}};
  if (auto ok = check_value(spec, ai, e); !ok)
    return unexpected(BarcodeError{"AI (" + std::string(ai) + ") " + std::string(spec.title) +
                                   ": '" + std::string(value) + "' " + ok.error()});
  return e;
}

}  // namespace

Expected<std::vector<Gs1Element>, BarcodeError> parse_gs1_element_string(std::string_view data) {
  while (!data.empty() && data.front() == kGroupSeparator) data.remove_prefix(1);  // leading FNC1
  if (data.empty()) return unexpected(BarcodeError{"the GS1 element string is empty"});
  std::vector<Gs1Element> out;
  while (!data.empty()) {
    std::size_t ai_len = 0;
    const AiSpec* spec = lookup(data, ai_len);
    if (!spec)
      return unexpected(BarcodeError{describe_unknown(data) + " at position " +
                                     std::to_string(out.size() + 1) + " of the element string"});
    const std::string_view ai = data.substr(0, ai_len);
    data.remove_prefix(ai_len);
    std::size_t len;
    if (predefined_length(ai)) {
      len = std::min(spec->max_len, data.size());
    } else {
      len = std::min(data.find(kGroupSeparator), data.size());
    }
    auto e = element(*spec, ai, data.substr(0, len));
    if (!e) return unexpected(e.error());
    out.push_back(std::move(*e));
    data.remove_prefix(len);
    if (!data.empty() && data.front() == kGroupSeparator) data.remove_prefix(1);
  }
  return out;
}

Expected<std::vector<Gs1Element>, BarcodeError> parse_gs1_human_readable(std::string_view text) {
  std::vector<Gs1Element> out;
  if (text.empty() || text.front() != '(')
    return unexpected(BarcodeError{"a human-readable GS1 string starts with '(' and an AI"});
  while (!text.empty()) {
    const auto close = text.find(')');
    if (text.front() != '(' || close == std::string_view::npos)
      return unexpected(
          BarcodeError{"expected '(AI)' at '" + std::string(text.substr(0, 12)) + "'"});
    const std::string_view ai = text.substr(1, close - 1);
    std::size_t ai_len = 0;
    const AiSpec* spec = lookup(ai, ai_len);
    if (!spec || ai_len != ai.size())
      return unexpected(
          BarcodeError{"unknown or unsupported Application Identifier (" + std::string(ai) + ")"});
    text.remove_prefix(close + 1);
    const auto next = text.find('(');
    // A '(' inside CSET 82 data is legal, but only where the AI's length allows it.
    std::size_t len = std::min(next, text.size());
    if (spec->min_len == spec->max_len) len = std::min(spec->max_len, text.size());
    auto e = element(*spec, ai, text.substr(0, len));
    if (!e) return unexpected(e.error());
    out.push_back(std::move(*e));
    text.remove_prefix(len);
  }
  return out;
}

}  // namespace fulfil::drivers
