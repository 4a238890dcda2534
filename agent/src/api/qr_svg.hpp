#pragma once
// Internal to agent/: a QR code as SVG, for a screen (a terminal pairing code that a
// tablet's camera opens). The symbol comes from libqrencode; this only draws it.
#include <optional>
#include <string>
#include <string_view>

namespace fulfil::agent::api {

// The quiet zone around the symbol, in modules: what the QR standard asks of a reader.
inline constexpr int kQrQuietZone = 4;

// `text` (8-bit mode, error correction M, the smallest version that holds it) as a
// self-contained SVG: a white square of (symbol + 2 quiet zones) modules on a fixed
// viewBox, one black <path> of each row's runs ("M<x> <y>h<n>v1h-<n>z"), no scripts, no
// external references. Nothing when libqrencode cannot encode it (too long, or a NUL).
std::optional<std::string> qr_svg(std::string_view text);

}  // namespace fulfil::agent::api
