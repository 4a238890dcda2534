// Tests of the printed documents: ZPL templates (golden output, hostile fields, a property
// test that no field data ever becomes a command) and PDFs rendered by poppler's tools.
#include <doctest/doctest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "documents_internal.hpp"
#include "drivers/documents.hpp"

extern char** environ;

// fontconfig keeps its configuration and font cache for the life of the process (pango
// never calls FcFini), which LeakSanitizer reports at exit in ASan builds.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libfontconfig.so\n";
}

using namespace fulfil::drivers;

namespace {

constexpr DocumentKind kAllKinds[] = {DocumentKind::shipping_label, DocumentKind::packing_slip,
                                      DocumentKind::pick_list, DocumentKind::pickup_shelf_label,
                                      DocumentKind::return_label};

OrderDocument sample(DocumentKind kind, std::size_t lines = 3) {
  OrderDocument d;
  d.kind = kind;
  d.store_id = "S1";
  d.store_name = "Corner Store";
  d.order_id = "FO-1001";
  d.order_ref = "#1001";
  d.customer_name = "Ada Lovelace";
  d.ship_to = {"Ada Lovelace", "12 Main St", "Flat 2", "Springfield", "IL", "62701", "US"};
  for (std::size_t i = 0; i < lines; ++i) {
    const std::string n = std::to_string(i + 1);
    d.lines.push_back({"SKU-" + n, "Item number " + n, "A" + n, "", 1, 0, 1, 0, ""});
  }
  d.order_qr = "https://store.example/o/FO-1001";
  d.carrier = "DHL";
  d.tracking = "JD0146000012345";
  d.box_type = "M";
  d.weight_g = 1250;
  d.shelf = "P-03";
  d.return_ref = "R-77";
  d.printed_at_ms = 1714566896000;  // 2024-05-01 12:34:56 UTC
  return d;
}

std::string zpl(const OrderDocument& d) {
  auto r = render_document(d, DocumentFormat::zpl);
  REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message));
  return *r;
}

// ---- A small ZPL tokenizer: commands (^XX / ~XX and their parameters) and field data
// (^FD ... ^FS). The skeleton is the label with each field's data replaced by a marker.
struct ParsedZpl {
  std::vector<std::string> skeleton;
  std::vector<std::string> fields;  // raw (escaped) field data
  std::string error;
};

ParsedZpl parse_zpl(std::string_view z) {
  ParsedZpl p;
  std::size_t i = 0;
  std::string last;  // the previous command with its parameters
  const auto fail = [&](std::string what) {
    p.error = what + " at offset " + std::to_string(i);
    return p;
  };
  while (i < z.size()) {
    if (z[i] == '\n') {
      ++i;
      continue;
    }
    if (z[i] != '^' && z[i] != '~') return fail("data outside any command");
    if (i + 3 > z.size()) return fail("truncated command");
    const std::string name(z.substr(i, 3));
    i += 3;
    if (name == "^FD") {
      if (last != "^FH_") return fail("^FD not preceded by ^FH_");
      const std::size_t end = z.find_first_of("^~", i);
      if (end == std::string_view::npos || z.substr(end, 3) != "^FS")
        return fail("field not ended by ^FS");
      const std::string_view data = z.substr(i, end - i);
      for (const char c : data) {
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7E) {
          return fail("non-printable byte in field data");
        }
      }
      p.fields.emplace_back(data);
      p.skeleton.push_back("^FD<field>");
      p.skeleton.push_back("^FS");
      last = "^FS";
      i = end + 3;
      continue;
    }
    const std::size_t end = std::min(z.find_first_of("^~\n", i), z.size());
    last = name + std::string(z.substr(i, end - i));
    // ^BY (module width) follows the barcode's length; its place in the template doesn't.
    p.skeleton.push_back(name == "^BY" ? "^BY#" : last);
    i = end;
  }
  return p;
}

std::string decode_field(std::string_view f) {
  std::string out;
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (f[i] == '_' && i + 2 < f.size()) {
      out += static_cast<char>(std::stoi(std::string(f.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += f[i];
    }
  }
  return out;
}

std::vector<std::string> decoded_fields(const std::string& z) {
  const ParsedZpl p = parse_zpl(z);
  REQUIRE_MESSAGE(p.error.empty(), p.error);
  std::vector<std::string> out;
  for (const auto& f : p.fields) out.push_back(decode_field(f));
  return out;
}

bool printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return c == '\n' ||
           (static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7F);
  });
}

// ---- Running poppler's tools (posix_spawn, arguments as a vector: no shell).
struct Run {
  int status = -1;
  std::string out;
};

// Unused where the PDF cases are compiled out (cross builds).
[[maybe_unused]] Run run(const std::vector<std::string>& argv) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  posix_spawn_file_actions_addclose(&fa, fds[1]);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  Run r;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;)
    r.out.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  if (rc != 0) return r;
  int status = 0;
  waitpid(pid, &status, 0);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string t = (std::filesystem::temp_directory_path() / "fulfil-docs-XXXXXX").string();
    REQUIRE(mkdtemp(t.data()) != nullptr);
    path = t;
  }
  // FULFIL_KEEP_DOCUMENTS=1 keeps the PDFs and PNGs to look at.
  ~TempDir() {
    if (std::getenv("FULFIL_KEEP_DOCUMENTS") == nullptr) std::filesystem::remove_all(path);
  }
};

}  // namespace

TEST_CASE("kinds and formats have names") {
  for (const DocumentKind k : kAllKinds) CHECK(document_kind_from(document_kind_name(k)) == k);
  CHECK_FALSE(document_kind_from("invoice").has_value());
  CHECK(document_format_name(DocumentFormat::zpl) == "zpl");
  CHECK(document_format_name(DocumentFormat::pdf) == "pdf");
}

TEST_CASE("zpl_field_data escapes everything that could end a field or start a command") {
  CHECK(zpl_field_data("Main St 12") == "Main St 12");
  CHECK(zpl_field_data("^XA~JA_,") == "_5EXA_7EJA_5F_2C");
  CHECK(zpl_field_data(std::string("a\0b\r\n\x1b\x7f", 7)) == "a_00b_0D_0A_1B_7F");
  CHECK(zpl_field_data("Zoë") == "Zo_C3_AB");
  CHECK(zpl_field_data("\xff") == "_EF_BF_BD");                            // invalid: U+FFFD
  CHECK(zpl_field_data("\xC0\xAF") == "_EF_BF_BD_EF_BF_BD");               // overlong '/'
  CHECK(zpl_field_data("\xED\xA0\x80") == "_EF_BF_BD_EF_BF_BD_EF_BF_BD");  // surrogate
}

TEST_CASE("golden: a small shipping label") {
  OrderDocument d = sample(DocumentKind::shipping_label);
  d.ship_to.line2 = "";
  const std::string z = zpl(d);
  const std::string golden = R"(^XA^CI28^PW812^LL1218^LH0,0
^FO40,40^A0N,30,30^FH_^FDCorner Store^FS
^FO30,90^GB752,4,4^FS
^FO40,110^A0N,28,28^FH_^FDSHIP TO^FS
^FO40,155^A0N,44,44^FH_^FDAda Lovelace^FS
^FO40,215^A0N,38,38^FH_^FD12 Main St^FS
^FO40,263^A0N,38,38^FH_^FD62701 Springfield IL^FS
^FO40,311^A0N,38,38^FH_^FDUS^FS
^FO40,359^A0N,38,38^FH_^FD^FS
^FO30,430^GB752,4,4^FS
^FO40,455^A0N,36,36^FH_^FDCarrier: DHL^FS
^FO40,515^BY3^BCN,170,N,N,N^FH_^FDJD0146000012345^FS
^FO40,700^A0N,36,36^FH_^FDJD0146000012345^FS
^FO40,740^A0N,24,24^FH_^FD^FS
^FO30,770^GB752,4,4^FS
^FO40,795^A0N,36,36^FH_^FDOrder #1001^FS
^FO40,850^A0N,32,32^FH_^FDPackage 1 of 1^FS
^FO40,900^A0N,32,32^FH_^FDBox: M^FS
^FO460,900^A0N,32,32^FH_^FD1.3 kg^FS
^FO40,950^A0N,28,28^FH_^FDOrder id FO-1001^FS
^FO40,1150^A0N,24,24^FH_^FD2024-05-01 12:34 UTC^FS
^XZ
)";
  CHECK(z == golden);
  d.ship_to.name = "Zoë ^XZ~JA";
  CHECK(zpl(d).find("\n^FO40,155^A0N,44,44^FH_^FDZo_C3_AB _5EXZ_7EJA^FS\n") != std::string::npos);
  CHECK(z.rfind("^XA^CI28", 0) == 0);
  CHECK(z.size() >= 4);
  CHECK(z.substr(z.size() - 4) == "^XZ\n");
  CHECK(printable_ascii(z));
}

TEST_CASE("hostile fields print as text and never as commands") {
  const std::vector<std::string> hostile = {
      "^XA^FO0,0^FDPWNED^FS^XZ",
      "~JA",
      "^DFR:X.ZPL^FS",
      "Bob\r\nSmith",
      "Esc\x1b[2J",
      std::string("Nul\0byte", 8),
      "under_score_5E",
      "bad \xC3\x28 \xFF utf8",
      "राजेश कुमार",
      "Jl. Merdeka No. 5",
      "Zoë Ångström",
      "^XZ~DGR:A.GRF,1,1,FF^XA",
  };
  for (const DocumentKind kind : kAllKinds) {
    for (const std::string& h : hostile) {
      CAPTURE(document_kind_name(kind));
      CAPTURE(docs::display_text(h));
      OrderDocument d = sample(kind, 2);
      d.store_name = d.customer_name = d.order_ref = d.carrier = d.box_type = d.shelf = h;
      d.ship_to = {h, h, h, h, h, h, h};
      for (auto& l : d.lines) l.title = l.sku = l.bin = h;
      d.order_qr = h;
      const std::string z = zpl(d);
      CHECK(printable_ascii(z));
      const ParsedZpl p = parse_zpl(z);
      REQUIRE_MESSAGE(p.error.empty(), p.error);
      CHECK(p.skeleton == parse_zpl(zpl(sample(kind, 2))).skeleton);
      // The hostile text is there, as field data (cut to fit if long).
      const std::string shown = docs::display_text(h);
      const auto fields = decoded_fields(z);
      const bool found = std::any_of(fields.begin(), fields.end(), [&](const std::string& f) {
        return f == shown || f == "QA," + docs::sanitize_utf8(h) ||
               (f.size() > 3 && f.substr(f.size() - 3) == "..." &&
                shown.rfind(f.substr(0, f.size() - 3), 0) == 0);
      });
      CHECK(found);
      // Nothing resembling a command in the raw bytes but the template's own.
      // (The letters "PWNED" print, as text; the "^FD" before them does not exist.)
      CHECK(z.find("^FDPWNED") == std::string::npos);
      CHECK(z.find("^DF") == std::string::npos);
      CHECK(z.find("~") == std::string::npos);
    }
  }
}

TEST_CASE("bidirectional controls are dropped from printed fields (no reversed names)") {
  // U+202E (RLO) would print "Alice <reversed address>" while the data says otherwise;
  // every directional formatting character goes, the text around it stays.
  const std::vector<std::string> controls = {"\u202E", "\u202D", "\u202A", "\u202B",
                                             "\u202C", "\u200E", "\u200F", "\u2066",
                                             "\u2067", "\u2068", "\u2069", "\u061C"};
  for (const auto& c : controls) {
    CAPTURE(docs::sanitize_utf8(c).size());
    CHECK(docs::display_text("Ali" + c + "ce " + c + "12 Main St") == "Alice 12 Main St");
    OrderDocument d = sample(DocumentKind::shipping_label);
    d.ship_to.name = "Ali" + c + "ce";
    const std::string z = zpl(d);
    CHECK(z.find("^FDAlice^FS") != std::string::npos);
    CHECK(z.find(zpl_field_data(c)) == std::string::npos);
  }
  // Joiners and other format characters that shaping needs are kept.
  CHECK(docs::display_text("\u0915\u094D\u200D\u0937") == "\u0915\u094D\u200D\u0937");
}

TEST_CASE("the Devanagari, Bahasa and accented names round-trip through the field escape") {
  OrderDocument d = sample(DocumentKind::shipping_label);
  d.ship_to.name = "राजेश कुमार";
  d.ship_to.line1 = "Jl. Merdeka No. 5";
  d.ship_to.line2 = "Zoë Ångström";
  const auto fields = decoded_fields(zpl(d));
  for (const char* s : {"राजेश कुमार", "Jl. Merdeka No. 5", "Zoë Ångström"}) {
    CHECK(std::find(fields.begin(), fields.end(), s) != fields.end());
  }
}

namespace {

// Random valid UTF-8: ASCII, Latin, Devanagari, CJK, emoji (no surrogates).
std::string random_utf8(std::mt19937& rng, std::size_t max_len) {
  static constexpr std::pair<char32_t, char32_t> kRanges[] = {{0x00, 0x7F},     {0x80, 0x7FF},
                                                              {0x900, 0x97F},   {0x4E00, 0x9FFF},
                                                              {0xE000, 0xFFFD}, {0x1F300, 0x1F6FF}};
  std::string s;
  const std::size_t n = std::uniform_int_distribution<std::size_t>(0, max_len)(rng);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& [lo, hi] = kRanges[std::uniform_int_distribution<std::size_t>(0, 5)(rng)];
    const char32_t c = std::uniform_int_distribution<char32_t>(lo, hi)(rng);
    if (c < 0x80) {
      s += static_cast<char>(c);
    } else if (c < 0x800) {
      s += static_cast<char>(0xC0 | (c >> 6));
      s += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      s += static_cast<char>(0xE0 | (c >> 12));
      s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      s += static_cast<char>(0xF0 | (c >> 18));
      s += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return s;
}

// Pieces of ZPL and other trouble a hostile string is made of.
const std::vector<std::string> kPieces = {"^",
                                          "~",
                                          "_",
                                          ",",
                                          "^XA",
                                          "^XZ",
                                          "~JA",
                                          "~JR",
                                          "^DFR:X.ZPL^FS",
                                          "^FS",
                                          "^FD",
                                          "^FH",
                                          "^CI0",
                                          "~DG",
                                          "^IDR:*.*",
                                          "_5E",
                                          "_7E",
                                          "><",
                                          ">;",
                                          "\r\n",
                                          "\x1b",
                                          std::string(1, '\0'),
                                          "\x7f",
                                          "\xC2\x85",
                                          "\xff",
                                          "\xC3",
                                          "राजेश",
                                          "Zoë",
                                          "Jl. Merdeka",
                                          "A1",
                                          " ",
                                          "  "};

std::string random_hostile(std::mt19937& rng, std::size_t max_parts) {
  std::string s;
  const std::size_t parts = std::uniform_int_distribution<std::size_t>(1, max_parts)(rng);
  for (std::size_t i = 0; i < parts; ++i) {
    switch (std::uniform_int_distribution<int>(0, 3)(rng)) {
      case 0:
        s += kPieces[std::uniform_int_distribution<std::size_t>(0, kPieces.size() - 1)(rng)];
        break;
      case 1:
        s += random_utf8(rng, 4);
        break;
      case 2:
        s += static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng));
        break;
      default:
        s += static_cast<char>(std::uniform_int_distribution<int>('A', 'z')(rng));
    }
  }
  return s;
}

// Barcode data a Code 128 takes (printable ASCII) but full of ZPL: mostly this, sometimes
// anything, which must fail cleanly or print safely.
std::string random_barcode(std::mt19937& rng) {
  if (std::uniform_int_distribution<int>(0, 9)(rng) == 0) return random_hostile(rng, 6);
  static const std::string kAscii = "^~_,>< ABCXZJDFSH0123456789:.*";
  std::string s;
  const std::size_t n = std::uniform_int_distribution<std::size_t>(1, 40)(rng);
  for (std::size_t i = 0; i < n; ++i) {
    s += kAscii[std::uniform_int_distribution<std::size_t>(0, kAscii.size() - 1)(rng)];
  }
  return s;
}

OrderDocument random_document(std::mt19937& rng, DocumentKind kind, std::size_t lines) {
  OrderDocument d = sample(kind, lines);
  const auto h = [&] { return random_hostile(rng, 8); };
  d.store_id = h();
  d.store_name = h();
  d.order_id = h();
  d.order_ref = h();
  d.customer_name = h();
  d.ship_to = {h(), h(), h(), h(), h(), h(), h()};
  for (auto& l : d.lines) {
    const auto qty = std::uniform_int_distribution<std::int64_t>(0, 1000000)(rng);
    l = {h(), h(), h(), h(), qty, 0, qty, 0, h()};
  }
  d.order_qr = std::uniform_int_distribution<int>(0, 1)(rng) ? random_hostile(rng, 30) : "";
  d.carrier = h();
  d.tracking = random_barcode(rng);
  d.box_type = h();
  d.shelf = h();
  // The shelf label's barcode holds the order id: barcode-like data, as for the others.
  if (kind == DocumentKind::pickup_shelf_label) d.order_id = random_barcode(rng);
  d.return_ref = random_barcode(rng);
  d.weight_g = std::uniform_int_distribution<std::int64_t>(0, 100000)(rng);
  return d;
}

}  // namespace

TEST_CASE("property: random hostile strings in every field never produce a command") {
  std::mt19937 rng(20240501);
  std::map<std::tuple<int, std::size_t, int>, std::vector<std::string>> benign;
  int printed = 0, refused = 0;
  constexpr int kIterations = 3000;
  for (int i = 0; i < kIterations; ++i) {
    const DocumentKind kind = kAllKinds[i % 5];
    const std::size_t lines = std::uniform_int_distribution<std::size_t>(1, 20)(rng);
    const int dpi = i % 3 == 0 ? 300 : 203;
    OrderDocument d = random_document(rng, kind, lines);
    d.dpi = dpi;
    const auto r = render_document(d, DocumentFormat::zpl);
    if (!r) {
      ++refused;  // e.g. a blank order id, a barcode of non-ASCII: an error value, no output
      continue;
    }
    ++printed;
    const auto key = std::make_tuple(static_cast<int>(kind), lines, dpi);
    if (!benign.count(key)) {
      OrderDocument b = sample(kind, lines);
      b.dpi = dpi;
      benign[key] = parse_zpl(zpl(b)).skeleton;
    }
    const ParsedZpl p = parse_zpl(*r);
    if (!p.error.empty() || p.skeleton != benign[key] || !printable_ascii(*r)) {
      CAPTURE(i);
      CAPTURE(p.error);
      CAPTURE(*r);
      FAIL("hostile data changed the label's commands");
    }
  }
  MESSAGE("printed ", printed, ", refused ", refused);
  CHECK(printed > kIterations * 8 / 10);
}

TEST_CASE("property: field data decodes back to the original UTF-8") {
  std::mt19937 rng(7);
  for (int i = 0; i < 5000; ++i) {
    const std::string s = random_utf8(rng, 24);
    const std::string f = zpl_field_data(s);
    REQUIRE(printable_ascii(f));
    REQUIRE(f.find_first_of("^~\n") == std::string::npos);
    REQUIRE(decode_field(f) == s);
  }
}

TEST_CASE("pick lists are sorted by bin and long lists continue on more labels") {
  OrderDocument d = sample(DocumentKind::pick_list, 0);
  d.lines = {{"S-B2", "b", "B2", "", 1, 0, 1, 0, ""},
             {"S-A10", "a10", "A10", "", 1, 0, 1, 0, ""},
             {"S-NONE", "n", "", "", 1, 0, 1, 0, ""},
             {"S-A2", "a2", "a2", "", 2, 0, 2, 0, ""}};
  const auto fields = decoded_fields(zpl(d));
  std::vector<std::string> skus;
  for (const auto& f : fields) {
    if (f.rfind("S-", 0) == 0) skus.push_back(f);
  }
  CHECK(skus == std::vector<std::string>{"S-A2", "S-A10", "S-B2", "S-NONE"});
  CHECK(std::find(fields.begin(), fields.end(), "QA,https://store.example/o/FO-1001") !=
        fields.end());

  const std::string z = zpl(sample(DocumentKind::packing_slip, 20));
  std::size_t labels = 0;
  for (std::size_t p = 0; (p = z.find("^XA^CI28", p)) != std::string::npos; ++p) ++labels;
  CHECK(labels == 3);  // 8 lines a label
  const auto f20 = decoded_fields(z);
  CHECK(std::find(f20.begin(), f20.end(), "Label 3 of 3") != f20.end());
  CHECK(std::find(f20.begin(), f20.end(), "SKU SKU-20") != f20.end());
}

namespace {

bool has_field(const std::vector<std::string>& fields, const std::string& f) {
  return std::find(fields.begin(), fields.end(), f) != fields.end();
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t p = 0; (p = text.find(needle, p)) != std::string::npos; p += needle.size()) ++n;
  return n;
}

}  // namespace

TEST_CASE("the pickup shelf label: order number, customer, shelf, and the order id as barcode") {
  OrderDocument d = sample(DocumentKind::pickup_shelf_label);
  const std::string z = zpl(d);
  const auto fields = decoded_fields(z);
  CHECK(has_field(fields, "Order #1001"));
  CHECK(has_field(fields, "Ada Lovelace"));
  CHECK(has_field(fields, "Shelf P-03"));
  CHECK(has_field(fields, "Order id FO-1001"));
  // One barcode, and it is the order id (what a terminal's scan-to-open resolves).
  CHECK(count_of(z, "^BC") == 1);
  CHECK(z.find("^BCN,200,N,N,N^FH_^FDFO-1001^FS") != std::string::npos);
  CHECK(z.find("^BQ") == std::string::npos);
  // No shelf given: no "Shelf" line, the rest unchanged.
  d.shelf = " ";
  const auto no_shelf = decoded_fields(zpl(d));
  CHECK(std::none_of(no_shelf.begin(), no_shelf.end(),
                     [](const std::string& f) { return f.find("Shelf") != std::string::npos; }));
  CHECK(has_field(no_shelf, "Order #1001"));
}

TEST_CASE("the fallback shipping label prints only lines with content, and none cut short") {
  OrderDocument d = sample(DocumentKind::shipping_label);
  d.carrier = d.tracking = d.box_type = "";  // packed, no carrier chosen yet
  d.ship_to.line2 = d.ship_to.region = " ";
  const std::string z = zpl(d);
  const auto fields = decoded_fields(z);
  for (const auto& f : fields) {
    CAPTURE(f);
    CHECK(f.find("Carrier") == std::string::npos);
    CHECK(f.find("Box") == std::string::npos);
    CHECK_FALSE((f.size() >= 3 && f.substr(f.size() - 3) == "..."));
  }
  // The address closes up under the name: no blank line where line 2 would be.
  const auto name = std::find(fields.begin(), fields.end(), "Ada Lovelace");
  REQUIRE(fields.end() - name > 4);
  CHECK(*(name + 1) == "12 Main St");
  CHECK(*(name + 2) == "62701 Springfield");
  CHECK(*(name + 3) == "US");
  // The store's package code as barcode and text, and the handover note whole.
  CHECK(z.find("^BCN,170,N,N,N^FH_^FDFO-1001-1^FS") != std::string::npos);
  CHECK(has_field(fields, "FO-1001-1"));
  CHECK(has_field(fields, "Tracking number given at handover"));
  // The same label once the carrier is known and has given its number.
  d.carrier = "DHL";
  d.tracking = "JD0146000012345";
  const auto tracked = decoded_fields(zpl(d));
  CHECK(has_field(tracked, "Carrier: DHL"));
  CHECK_FALSE(has_field(tracked, "Tracking number given at handover"));
  // The commands do not depend on which fields are empty.
  CHECK(parse_zpl(zpl(d)).skeleton == parse_zpl(z).skeleton);
}

TEST_CASE("a packing slip of a short-picked order says what is missing and why") {
  OrderDocument d = sample(DocumentKind::packing_slip, 2);
  d.lines[0] = {"SKU-1", "Wool Scarf", "A1", "", 1, 1, 2, 1, "not_found"};
  d.lines.push_back({"SKU-9", "Leather Belt", "A9", "", 0, 0, 1, 1, "out_of_stock"});
  const auto fields = decoded_fields(zpl(d));
  CHECK(has_field(fields, "2 ordered, 1 short: not found"));
  CHECK(has_field(fields, "SKU SKU-1"));
  CHECK(has_field(fields, "1 ordered, 1 short: out of stock"));
  CHECK(has_field(fields, "SKU SKU-2"));  // a line in full, as ever
  CHECK(has_field(fields, "0 x"));
  CHECK(has_field(fields, std::string(docs::kShortNote)));
  // Nothing short: no note.
  const auto whole = decoded_fields(zpl(sample(DocumentKind::packing_slip, 2)));
  CHECK_FALSE(has_field(whole, std::string(docs::kShortNote)));
}

TEST_CASE("ZPL scales to 300 dpi and can use a printer-resident TrueType font") {
  OrderDocument d = sample(DocumentKind::pickup_shelf_label);
  d.dpi = 300;
  d.zpl_font = "E:NOTOSANSDEV.TTF";
  const std::string z = zpl(d);
  CHECK(z.find("^PW1200^LL1800") != std::string::npos);
  CHECK(z.find("^A@N,44,44,E:NOTOSANSDEV.TTF^FH_^FD") != std::string::npos);
  CHECK(z.find("^A0") == std::string::npos);
}

TEST_CASE("long fields are cut to fit, by characters, never inside a UTF-8 sequence") {
  OrderDocument d = sample(DocumentKind::pickup_shelf_label);
  d.customer_name = "";
  for (int i = 0; i < 40; ++i) d.customer_name += "रा";
  const auto fields = decoded_fields(zpl(d));
  const auto it = std::find_if(fields.begin(), fields.end(),
                               [](const std::string& f) { return f.rfind("रा", 0) == 0; });
  REQUIRE(it != fields.end());
  CHECK(docs::sanitize_utf8(*it) == *it);
  CHECK(it->substr(it->size() - 3) == "...");
  CHECK(docs::code_point_count(*it) <= 17);
}

TEST_CASE("errors are values that say what is wrong") {
  const auto error_of = [](const OrderDocument& d, DocumentFormat f = DocumentFormat::zpl) {
    const auto r = render_document(d, f);
    REQUIRE_FALSE(r.has_value());
    return r.error().message;
  };
  OrderDocument d = sample(DocumentKind::pickup_shelf_label);
  d.order_id = "FO-\xC3\xA9";
  CHECK(error_of(d).find("the order id has characters a Code 128") != std::string::npos);
  CHECK(error_of(d, DocumentFormat::pdf).find("the order id has characters") != std::string::npos);

  d = sample(DocumentKind::shipping_label);
  d.ship_to = {};
  CHECK(error_of(d).find("shipping address has no name") != std::string::npos);
  d = sample(DocumentKind::shipping_label);
  d.ship_to.line1 = " \r\n ";
  CHECK(error_of(d).find("no street line") != std::string::npos);
  d = sample(DocumentKind::shipping_label);
  d.tracking = "JD01é";
  CHECK(error_of(d).find("Code 128") != std::string::npos);
  d.tracking = std::string(41, '1');
  CHECK(error_of(d).find("at most 40") != std::string::npos);

  d = sample(DocumentKind::return_label);
  d.return_ref = "";
  CHECK(error_of(d).find("return reference") != std::string::npos);
  d = sample(DocumentKind::packing_slip, 0);
  CHECK(error_of(d).find("packing_slip has no lines") != std::string::npos);
  d = sample(DocumentKind::pick_list);
  d.lines[1].quantity = -1;
  CHECK(error_of(d).find("line 2 (SKU-2) has a negative quantity") != std::string::npos);
  d = sample(DocumentKind::pick_list);
  d.order_qr = std::string(600, 'x');
  CHECK(error_of(d).find("QR") != std::string::npos);
  d = sample(DocumentKind::packing_slip);
  d.order_id = "\x01";
  CHECK(error_of(d).find("no order id") != std::string::npos);
  d = sample(DocumentKind::packing_slip);
  d.package_no = 3;
  d.package_count = 2;
  CHECK(error_of(d).find("package 3 of 2") != std::string::npos);
  d = sample(DocumentKind::packing_slip);
  d.dpi = 1200;
  CHECK(error_of(d).find("1200 dpi") != std::string::npos);
  d = sample(DocumentKind::packing_slip);
  for (const char* bad : {"E:X.TTF^XA", "X.TTF", "E:.TTF", "e:FONT.TTF", "E:FONT.ttf", ".", "E:"}) {
    d.zpl_font = bad;
    CHECK(error_of(d).find("ZPL font") != std::string::npos);
  }
  // zint's own refusal reaches the caller too (the checks keep templates from this).
  docs::Layout layout{100, 100, 1, {docs::Page{}}};
  docs::PageBuilder(layout.pages[0]).code128(0, 0, 100, 50, std::string(300, 'A'));
  const auto r = docs::write_pdf(layout);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message.find("Code 128 barcode") != std::string::npos);
}

namespace {

OrderDocument action_sheet(std::vector<std::string> box_types = {"S", "M", "L", "XL"}) {
  OrderDocument d;
  d.kind = DocumentKind::action_sheet;
  d.store_name = "Corner Store";
  d.station = "desk-1";
  d.box_types = std::move(box_types);
  d.printed_at_ms = 1714566896000;
  return d;
}

}  // namespace

TEST_CASE("the action sheet: one row per action and box type, each with its Code 128") {
  CHECK(document_kind_from("action_sheet") == DocumentKind::action_sheet);
  const std::string z = zpl(action_sheet());
  CHECK(printable_ascii(z));
  // 10 rows (6 actions, 4 box types), five a label: two labels, each saying which.
  CHECK(count_of(z, "^XA") == 2);
  CHECK(count_of(z, "^BC") == 10);
  const auto fields = decoded_fields(z);
  CHECK(has_field(fields, "ACTION BARCODES"));
  CHECK(has_field(fields, "Station desk-1"));
  CHECK(has_field(fields, "Label 2 of 2"));
  for (const char* label : {"ACCEPT", "START PICKING", "COMPLETE PICKING", "PACK", "PRINT AGAIN",
                            "QUEUE", "BOX: S", "BOX: XL"})
    CHECK_MESSAGE(has_field(fields, label), label);
  for (const char* code : {"*ACT-ACCEPT", "*ACT-START", "*ACT-COMPLETE", "*ACT-PACK", "*ACT-PRINT",
                           "*ACT-QUEUE", "*ACT-BOX-S", "*ACT-BOX-XL"}) {
    CAPTURE(code);
    CHECK(z.find(std::string(",N,N,N^FH_^FD") + code + "^FS") != std::string::npos);  // barcode
    CHECK(has_field(fields, code));  // and the code in text under it
  }
  // Rows in the order of the desk's work: the box is chosen before packing.
  const auto at = [&](const char* f) { return std::find(fields.begin(), fields.end(), f); };
  CHECK(at("COMPLETE PICKING") < at("BOX: S"));
  CHECK(at("BOX: XL") < at("PACK"));
  CHECK(at("PACK") < at("PRINT AGAIN"));
  // A sheet for no desk in particular; fewer rows, as many labels as they need.
  OrderDocument any = action_sheet({"M"});
  any.station = "";
  const std::string one = zpl(any);
  CHECK(count_of(one, "^XA") == 2);  // 7 rows
  CHECK(has_field(decoded_fields(one), "Any station"));
}

TEST_CASE(
    "the action sheet prints hostile box types as text; one Code 128 cannot carry is refused") {
  const std::string hostile = "^XA^FDPWNED^FS~JA";
  OrderDocument d = action_sheet({"M", hostile, "_5E,"});
  d.store_name = d.station = "^XZ~DGR:A.GRF,1,1,FF^XA";
  const std::string z = zpl(d);
  CHECK(printable_ascii(z));
  const ParsedZpl p = parse_zpl(z);
  REQUIRE_MESSAGE(p.error.empty(), p.error);
  CHECK(count_of(z, "^XA") == 2);  // the template's labels (9 rows), and no more
  CHECK(z.find("~") == std::string::npos);
  CHECK(z.find("^FDPWNED") == std::string::npos);
  CHECK(z.find("^DG") == std::string::npos);
  const auto fields = decoded_fields(z);
  CHECK(has_field(fields, "BOX: " + hostile));
  CHECK(has_field(fields, "*ACT-BOX-" + hostile));  // the barcode's data, as data
  CHECK(has_field(fields, "BOX: _5E,"));

  const auto error_of = [](const OrderDocument& doc, DocumentFormat f) {
    const auto r = render_document(doc, f);
    REQUIRE_FALSE(r.has_value());
    return r.error().message;
  };
  for (const DocumentFormat f : {DocumentFormat::zpl, DocumentFormat::pdf}) {
    CAPTURE(document_format_name(f));
    const std::string accents = error_of(action_sheet({"M", "Größe L"}), f);
    CHECK(accents.find("box type \"Größe L\" cannot be an action barcode") != std::string::npos);
    CHECK(accents.find("printable ASCII") != std::string::npos);
    CHECK(accents.find("orders.box_types") != std::string::npos);
    const std::string control = error_of(action_sheet({"M\x01"}), f);
    CHECK(control.find("box type \"M\\x01\"") != std::string::npos);
    const std::string long_name = error_of(action_sheet({std::string(32, 'B')}), f);
    CHECK(long_name.find("41 characters, Code 128 holds at most 40") != std::string::npos);
    CHECK(error_of(action_sheet({""}), f).find("a box type is empty") != std::string::npos);
  }
  CHECK(render_document(action_sheet({std::string(31, 'B')}), DocumentFormat::zpl).has_value());
}

#ifdef FULFIL_PDFTOPPM
namespace {

// Writes the PDF, checks pdfinfo's page count and that pdftoppm renders that many PNGs.
int rendered_pages(const TempDir& dir, const std::string& name, const std::string& pdf) {
  const std::string file = (dir.path / (name + ".pdf")).string();
  std::ofstream(file, std::ios::binary) << pdf;
  const Run info = run({FULFIL_PDFINFO, file});
  REQUIRE(info.status == 0);
  const std::size_t at = info.out.find("Pages:");
  REQUIRE(at != std::string::npos);
  const int pages = std::atoi(info.out.c_str() + at + 6);
  const std::string prefix = (dir.path / name).string();
  REQUIRE(run({FULFIL_PDFTOPPM, "-png", "-r", "50", file, prefix}).status == 0);
  int pngs = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path)) {
    const std::string f = e.path().filename().string();
    if (f.rfind(name + "-", 0) == 0 && e.path().extension() == ".png") ++pngs;
  }
  CHECK(pngs == pages);
  return pages;
}

std::string pdf(const OrderDocument& d) {
  auto r = render_document(d, DocumentFormat::pdf);
  REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message));
  CHECK(r->rfind("%PDF-", 0) == 0);
  return *r;
}

// The PDF's text as poppler extracts it (-layout keeps each printed line on one line).
std::string pdf_text(const TempDir& dir, const std::string& name, const std::string& pdf) {
  const std::string file = (dir.path / (name + ".pdf")).string();
  std::ofstream(file, std::ios::binary) << pdf;
  const Run text = run({FULFIL_PDFTOTEXT, "-layout", file, "-"});
  REQUIRE(text.status == 0);
  return text.out;
}

}  // namespace

TEST_CASE("PDF: each document of a normal order is one valid page") {
  TempDir dir;
  for (const DocumentKind kind : kAllKinds) {
    CAPTURE(document_kind_name(kind));
    CHECK(rendered_pages(dir, std::string(document_kind_name(kind)), pdf(sample(kind, 12))) == 1);
  }
}

TEST_CASE("PDF: a 200-line pick list runs over several pages") {
  TempDir dir;
  const int pages = rendered_pages(dir, "long", pdf(sample(DocumentKind::pick_list, 200)));
  CHECK(pages == 7);  // 29 lines on the first page, 33 on each next
}

TEST_CASE("PDF: Devanagari names render with a Devanagari font; hostile text is harmless") {
  TempDir dir;
  OrderDocument d = sample(DocumentKind::packing_slip);
  d.ship_to.name = d.customer_name = "राजेश कुमार";
  d.ship_to.line1 = "Jl. Merdeka No. 5 <b>bold</b> &amp; ^XA";
  d.lines[0].title = "Zoë Ångström \xff\x1b";
  CHECK(rendered_pages(dir, "deva", pdf(d)) == 1);
  const Run fonts = run({FULFIL_PDFFONTS, (dir.path / "deva.pdf").string()});
  REQUIRE(fonts.status == 0);
  CHECK(fonts.out.find("Lohit") != std::string::npos);
  CHECK(fonts.out.find("DejaVuSans") != std::string::npos);
}
TEST_CASE("PDF: the pickup shelf label shows the order number, customer and shelf") {
  TempDir dir;
  const std::string text = pdf_text(dir, "shelf", pdf(sample(DocumentKind::pickup_shelf_label)));
  CHECK(text.find("Order #1001") != std::string::npos);
  CHECK(text.find("Ada Lovelace") != std::string::npos);
  CHECK(text.find("Shelf P-03") != std::string::npos);
  CHECK(text.find("Order id FO-1001") != std::string::npos);
}
TEST_CASE("PDF: the fallback label and a short-picked packing slip") {
  TempDir dir;
  OrderDocument label = sample(DocumentKind::shipping_label);
  label.carrier = label.tracking = "";
  label.ship_to.line2 = "";
  const std::string l = pdf_text(dir, "fallback", pdf(label));
  CHECK(l.find("Carrier") == std::string::npos);
  CHECK(l.find("Tracking number given at handover") != std::string::npos);
  CHECK(l.find("12 Main St") != std::string::npos);

  OrderDocument slip = sample(DocumentKind::packing_slip, 2);
  slip.lines[0] = {"SKU-1", "Wool Scarf", "A1", "", 1, 1, 2, 1, "not_found"};
  slip.ship_to.line2 = "";
  const std::string p = pdf_text(dir, "short", pdf(slip));
  CHECK(p.find("2 ordered, 1 short: not found") != std::string::npos);
  CHECK(p.find(std::string(docs::kShortNote)) != std::string::npos);
  CHECK(pdf_text(dir, "whole", pdf(sample(DocumentKind::packing_slip))).find("short") ==
        std::string::npos);
}
TEST_CASE("PDF: the action sheet is one A4 page of labels and codes; more box types run over") {
  TempDir dir;
  OrderDocument d = action_sheet();
  CHECK(rendered_pages(dir, "actions", pdf(d)) == 1);
  const std::string text = pdf_text(dir, "actions-text", pdf(d));
  for (const char* s :
       {"Action barcodes", "Corner Store", "Station desk-1", "ACCEPT", "START PICKING",
        "COMPLETE PICKING", "PACK", "PRINT AGAIN", "QUEUE", "BOX: S", "BOX: XL", "*ACT-ACCEPT",
        "*ACT-START", "*ACT-COMPLETE", "*ACT-PACK", "*ACT-PRINT", "*ACT-QUEUE", "*ACT-BOX-M"})
    CHECK_MESSAGE(text.find(s) != std::string::npos, s);
  d.box_types = {"B1", "B2", "B3", "B4", "B5", "B6", "B7", "^XA~JA"};
  CHECK(rendered_pages(dir, "actions-long", pdf(d)) == 2);
  const std::string more = pdf_text(dir, "actions-long-text", pdf(d));
  CHECK(more.find("Action barcodes (continued)") != std::string::npos);
  CHECK(more.find("BOX: ^XA~JA") != std::string::npos);
  CHECK(more.find("Page 2 of 2") != std::string::npos);
}
#else
TEST_CASE("PDF rendering checks") {
  MESSAGE("skipped: poppler's tools are not run in cross builds");
}
#endif
