// Barcode decoding and GS1 element strings: the GS1 General Specifications' examples, each
// check-digit rule, each error naming its AI; UPC-E expansion; scans resolving to SKUs.
#include <doctest/doctest.h>

#include "codes/action_codes.hpp"
#include "codes/barcode.hpp"
#include "codes/gtin.hpp"
#include "test_support.hpp"

namespace fulfil::test {
namespace {

using drivers::decode_barcode;
using drivers::Symbology;

std::string error_of(std::string_view scan) {
  auto d = decode_barcode(scan);
  REQUIRE_MESSAGE(!d.has_value(), "decoded: " << scan);
  return d.error().message;
}

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

TEST_CASE("action codes: the sheet's codes parse back; nothing else a store scans is one") {
  using drivers::Action;
  for (const Action a : {Action::accept, Action::start_picking, Action::complete_picking,
                         Action::pack, Action::print_again, Action::queue}) {
    const auto code = drivers::action_code(a);
    CHECK(code.starts_with("*ACT-"));
    REQUIRE(drivers::parse_action_code(code));
    CHECK(drivers::parse_action_code(code)->action == a);
  }
  CHECK(drivers::action_code(Action::complete_picking) == "*ACT-COMPLETE");
  const auto box = drivers::parse_action_code("]C0*ACT-BOX-XL\r\n");  // AIM id, line end
  REQUIRE(box);
  CHECK(box->action == Action::box);
  CHECK(box->box_type == "XL");
  CHECK(drivers::action_label(*box) == "BOX: XL");
  CHECK(drivers::box_action_code("M") == "*ACT-BOX-M");
  // The prefix with no known action is an action code, but none the sheet prints.
  CHECK(drivers::is_action_code("*ACT-FLY"));
  CHECK_FALSE(drivers::parse_action_code("*ACT-FLY"));
  CHECK_FALSE(drivers::parse_action_code("*ACT-BOX-"));
  CHECK_FALSE(drivers::parse_action_code("*ACT-accept"));
  for (const char* other : {"4006381333931", "FO-1001", "FO-1001-1", "PL-3", "W100001",
                            "]C10104006381333931", "ACT-PACK", "*ACTPACK", ""})
    CHECK_FALSE_MESSAGE(drivers::is_action_code(other), other);
  // The decoder takes an action code as plain text and does not choke on it.
  auto decoded = decode_barcode("*ACT-PACK");
  REQUIRE(decoded);
  CHECK(decoded->symbology == Symbology::text);
  CHECK_FALSE(decoded->gtin14);
}

TEST_CASE("retail product codes: check digits verified, every form normalised to GTIN-14") {
  auto ean = decode_barcode("4006381333931");
  REQUIRE(ean);
  CHECK(ean->symbology == Symbology::ean13);
  CHECK(ean->gtin14 == "04006381333931");
  CHECK(decode_barcode("036000291452")->symbology == Symbology::upca);
  CHECK(decode_barcode("036000291452")->gtin14 == "00036000291452");
  CHECK(decode_barcode("96385074")->symbology == Symbology::ean8);
  CHECK(decode_barcode("]E00036000291452")->symbology == Symbology::upca);  // EAN-13 with a 0
  CHECK(decode_barcode("]I110012345678902")->gtin14 == "10012345678902");
  CHECK(contains(error_of("4006381333932"), "check digit is 2, expected 1"));
  CHECK(contains(error_of("]E0ABC"), "digits"));
  CHECK(contains(error_of(""), "empty"));
}

TEST_CASE("UPC-E is expanded to the UPC-A it abbreviates") {
  CHECK(*drivers::expand_upce("04252614") == "042100005264");  // 0-2: manufacturer ends 0
  CHECK(*drivers::expand_upce("0425261") == "042100005264");   // without the check digit
  CHECK(*drivers::expand_upce("425261") == "042100005264");    // without number system
  CHECK(*drivers::expand_upce("01234565") == "012345000065");  // 5-9: item ends in it
  CHECK(drivers::expand_upce("0123453")->substr(0, 11) == "01230000045");  // 3
  CHECK(drivers::expand_upce("0123454")->substr(0, 11) == "01234000005");  // 4
  CHECK(contains(drivers::expand_upce("04252615").error().message, "check digit is 5, expected 4"));
  CHECK(contains(drivers::expand_upce("24252614").error().message, "number system is 2"));
  auto scan = decode_barcode("04252614");  // not a valid EAN-8, a valid UPC-E
  REQUIRE(scan);
  CHECK(scan->symbology == Symbology::upce);
  CHECK(scan->gtin14 == "00042100005264");
}

TEST_CASE("GS1 element strings: AIM identifiers, FNC1 as GS, predefined and variable lengths") {
  auto label = decode_barcode(
      "]C1010950110153000317250630"
      "10AB-123\x1d"
      "21S/N-9");
  REQUIRE_MESSAGE(label, label.error().message);
  CHECK(label->symbology == Symbology::gs1_128);
  CHECK(label->gtin14 == "09501101530003");
  REQUIRE(label->elements.size() == 4);
  CHECK(label->elements[0].ai == "01");
  CHECK(label->elements[1].date == "2025-06-30");
  CHECK(label->elements[2].value == "AB-123");
  CHECK(label->elements[3].ai == "21");
  CHECK(label->elements[3].value == "S/N-9");

  auto dm = decode_barcode(
      "]d2\x1d"
      "0109501101530003"
      "3103001250"
      "37"
      "12");
  REQUIRE_MESSAGE(dm, dm.error().message);
  CHECK(dm->symbology == Symbology::gs1_datamatrix);
  CHECK(dm->elements[1].ai == "3103");
  CHECK(dm->elements[1].decimal == "1.250");
  CHECK(dm->elements[2].value == "12");
  CHECK(decode_barcode("]Q30109501101530003")->symbology == Symbology::gs1_qr);

  auto human = decode_barcode("(01)09501101530003(17)250630(10)AB-123");
  REQUIRE_MESSAGE(human, human.error().message);
  CHECK(human->symbology == Symbology::gs1_human_readable);
  CHECK(human->elements.size() == 3);
  CHECK(human->elements[2].value == "AB-123");
}

TEST_CASE("GS1 dates: DD=00 is the month's last day; impossible dates are refused") {
  CHECK(decode_barcode("]C117250200")->elements[0].date == "2025-02-28");
  CHECK(decode_barcode("]C117240200")->elements[0].date == "2024-02-29");
  CHECK(decode_barcode("]C115241231")->elements[0].date == "2024-12-31");
  CHECK(contains(error_of("]C117251301"), "AI (17)"));
  CHECK(contains(error_of("]C117251301"), "month 13"));
  CHECK(contains(error_of("]C117250230"), "day 30 does not exist in month 02"));
}

TEST_CASE("each GS1 error names the AI and what was wrong") {
  CHECK(contains(error_of("]C10109501101530004"), "AI (01) GTIN"));
  CHECK(contains(error_of("]C10109501101530004"), "check digit is 4, expected 3"));
  CHECK(contains(error_of("]C100123456789012345678"), "AI (00) SSCC"));  // bad check digit
  CHECK(contains(error_of("]C101095011015300"), "must be 14 characters, not 12"));
  CHECK(contains(error_of("]C121S/N 9"), "character 4 is not allowed"));  // space: not CSET 82
  CHECK(contains(error_of("]C199ABC"),
                 "unknown or unsupported Application Identifier starting '99'"));
  CHECK(contains(error_of("]C1XYZ"), "does not start with an Application Identifier"));
  CHECK(contains(error_of("]C110" + std::string(21, 'A')), "must be 1 to 20 characters, not 21"));
  CHECK(contains(error_of("]C110AB#C"), "character 3 is not allowed"));
  CHECK(contains(error_of("]C1370A"), "AI (37) COUNT"));
  CHECK(contains(error_of("]C14100614141000004"), "AI (410)"));  // GLN check digit
  CHECK(contains(error_of("(01)09501101530003(99)1"), "(99)"));
  CHECK(contains(error_of("(0109501101530003"), "expected '(AI)'"));
}

TEST_CASE("plain text and non-GS1 symbols pass through as text") {
  CHECK(decode_barcode("FO-DEMO-1")->symbology == Symbology::text);
  CHECK(decode_barcode("]C0PKG-0001")->symbology == Symbology::code128);
  CHECK(decode_barcode("]C0PKG-0001")->data == "PKG-0001");
  CHECK(decode_barcode("]A0ABC-1")->symbology == Symbology::code39);
  CHECK_FALSE(decode_barcode("12345")->gtin14.has_value());  // too short for a product
}

TEST_CASE("a scan finds its SKU by any GTIN form, UPC-E or a GS1 label") {
  auto ts = open_test_store();
  agent::SkuRecord r{"SKU-UPC", "Tea", "A1-1", {"042100005264"}, 0};
  REQUIRE(ts->inventory().upsert(r, ctx()));
  auto& inv = ts->inventory();
  CHECK(inv.sku_for_barcode("042100005264") == "SKU-UPC");
  CHECK(inv.sku_for_barcode("0042100005264") == "SKU-UPC");
  CHECK(inv.sku_for_barcode("04252614") == "SKU-UPC");  // UPC-E
  CHECK(inv.sku_for_barcode("]E00042100005264") == "SKU-UPC");
  CHECK(inv.sku_for_barcode("]C10100042100005264"
                            "10LOT7") == "SKU-UPC");
  CHECK(inv.sku_for_barcode("(01)00042100005264(17)270101") == "SKU-UPC");
  CHECK_FALSE(inv.sku_for_barcode("042100005265").has_value());
}

}  // namespace
}  // namespace fulfil::test

TEST_CASE("GS1 check digits of published GTINs") {
  CHECK(fulfil::drivers::gs1_check_digit("400638133393") == '1');   // EAN-13 4006381333931
  CHECK(fulfil::drivers::gs1_check_digit("03600029145") == '2');    // UPC-A 036000291452
  CHECK(fulfil::drivers::gs1_check_digit("9638507") == '4');        // EAN-8 96385074
  CHECK(fulfil::drivers::gs1_check_digit("1061414100041") == '5');  // GTIN-14 10614141000415
}

TEST_CASE("GTINs normalise to 14 digits; each error says what is wrong") {
  CHECK(*fulfil::drivers::normalize_gtin("4006381333931") == "04006381333931");
  CHECK(*fulfil::drivers::normalize_gtin("036000291452") == "00036000291452");
  CHECK(*fulfil::drivers::normalize_gtin("96385074") == "00000096385074");
  CHECK(*fulfil::drivers::normalize_gtin("10614141000415") == "10614141000415");
  CHECK(fulfil::drivers::normalize_gtin("").error().message == "GTIN is empty");
  CHECK(fulfil::drivers::normalize_gtin("40063813339X1").error().message ==
        "GTIN must contain only digits");
  CHECK(fulfil::drivers::normalize_gtin("123456789").error().message.find("9 digits") !=
        std::string::npos);
  CHECK(fulfil::drivers::normalize_gtin("4006381333932").error().message ==
        "GTIN check digit is 2, expected 1");
}
