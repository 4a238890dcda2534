#include "qr_svg.hpp"

#include <qrencode.h>

#include <memory>

namespace fulfil::agent::api {
namespace {

struct QrFree {
  void operator()(QRcode* code) const { QRcode_free(code); }
};

// One row's dark runs as path commands, offset by the quiet zone.
void draw_row(const QRcode& qr, int y, std::string& d) {
  const auto dark = [&](int x) { return (qr.data[y * qr.width + x] & 1) != 0; };
  for (int x = 0; x < qr.width;) {
    if (!dark(x)) {
      ++x;
      continue;
    }
    const int start = x;
    while (x < qr.width && dark(x)) ++x;
    const std::string run = std::to_string(x - start);
    d += "M" + std::to_string(start + kQrQuietZone) + " " + std::to_string(y + kQrQuietZone) + "h" +
         run + "v1h-" + run + "z";
  }
}

}  // namespace

std::optional<std::string> qr_svg(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) return std::nullopt;
  const std::string input(text);
  // Version 0: the smallest that holds the text. Level M survives a smudged tablet screen
  // or a glare spot (15% of the symbol) and keeps a URL of ~40 characters at version 3.
  std::unique_ptr<QRcode, QrFree> qr(
      QRcode_encodeString(input.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1));
  if (!qr) return std::nullopt;
  std::string d;
  for (int y = 0; y < qr->width; ++y) draw_row(*qr, y, d);
  const std::string size = std::to_string(qr->width + 2 * kQrQuietZone);
  const std::string pixels = std::to_string((qr->width + 2 * kQrQuietZone) * 4);
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + size + " " + size +
         "\" width=\"" + pixels + "\" height=\"" + pixels +
         "\" shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"QR code\">"
         "<rect width=\"" +
         size + "\" height=\"" + size + "\" fill=\"#fff\"/><path fill=\"#000\" d=\"" + d +
         "\"/></svg>\n";
}

}  // namespace fulfil::agent::api
