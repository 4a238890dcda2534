#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "config/log.hpp"
#include "config/remote_config.hpp"
#include "demo/demo.hpp"
#include "demo_cloud.hpp"

namespace fulfil::demo {
namespace {

bool overridden(const config::LoadRequest& request, const std::string& key) {
  for (const auto& o : request.overrides)
    if (o.rfind(key + "=", 0) == 0) return true;
  return false;
}

// The demo prints into STATE_DIR/labels: labels as ZPL, slips and pick lists as PDF, all
// at the demo terminal's station.
void add_demo_printers(nlohmann::json& doc) {
  const std::string dir = doc["storage"]["state_dir"].get<std::string>() + "/labels";
  std::filesystem::create_directories(dir);
  auto printer = [&](const char* id, const char* language) {
    return nlohmann::json{{"id", id},           {"kind", "file"},   {"language", language},
                          {"dpi", 203},         {"directory", dir}, {"cups_queue", ""},
                          {"cups_server", ""},  {"host", ""},       {"port", 9100},
                          {"timeout_ms", 15000}};
  };
  doc["printers"] = {printer("demo-labels", "zpl"), printer("demo-paper", "pdf")};
  doc["stations"] = {{{"id", "pack-1"},
                      {"documents",
                       {{"shipping_label", "demo-labels"},
                        {"pickup_shelf_label", "demo-labels"},
                        {"return_label", "demo-labels"},
                        {"packing_slip", "demo-paper"},
                        {"pick_list", "demo-paper"}}}}};
}

// The demo's till writes files (the POS feed's drop folder, STATE_DIR/till-drop): at the
// demo's first start it holds two till transactions, a sale as JSON and a return as CSV,
// which are imported at once. Written under a '.' name and renamed, as a till must.
void add_demo_till_files(const std::string& folder) {
  std::error_code ec;
  if (folder.empty() || std::filesystem::exists(folder, ec)) return;
  std::filesystem::create_directories(folder, ec);
  auto drop = [&](const std::string& name, const std::string& text) {
    const auto tmp = std::filesystem::path(folder) / ("." + name + ".tmp");
    std::ofstream(tmp, std::ios::trunc) << text;
    std::filesystem::rename(tmp, std::filesystem::path(folder) / name, ec);
  };
  drop("0001-sale.json",
       R"({"transaction_id": "DEMO-0001", "kind": "sale", "lines": [)"
       R"({"sku": "SKU-10001", "quantity": 1}, {"sku": "SKU-10002", "quantity": 2}]})"
       "\n");
  drop("0002-return.csv",
       "transaction_id,kind,sku_or_barcode,quantity\nDEMO-0002,return,SKU-10004,1\n");
}

// The demo's cloud signs configurations with a brand key of its own (kept in the state
// directory, 0600), which this store trusts. Empty: no remote configuration in the demo.
std::string make_brand_key(const config::Settings& settings) {
  if (!settings.sync.cloud_url.empty() || !settings.remote_config.public_keys.empty()) return "";
  const auto key = config::generate_signing_key();
  const std::string path = settings.storage.state_dir + "/" + kBrandKeyFile;
  std::error_code ec;
  std::filesystem::create_directories(settings.storage.state_dir, ec);
  std::ofstream out(path, std::ios::trunc);
  out << key.private_key << "\n";
  out.close();
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
  return out.good() && !ec ? key.public_key : "";
}

}  // namespace

Expected<void, std::string> prepare_request(config::LoadRequest& request) {
  if (!overridden(request, "storage.state_dir")) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "fulfild-demo-XXXXXX").string();
    if (!mkdtemp(tmpl.data()))
      return unexpected(std::string("cannot create a demo state directory"));
    request.overrides.insert(request.overrides.begin(), "storage.state_dir=" + tmpl);
  }
  request.overrides.insert(request.overrides.begin(), "store.name=Demo Store Berlin Mitte");
  return {};
}

agent::DaemonOptions daemon_options(config::Settings& settings, const config::LoadRequest& request,
                                    const std::string& agent_version, int first_orders) {
  const bool has_socket = overridden(request, "api.socket");
  const std::string brand_key = make_brand_key(settings);
  // Run on every configuration the daemon loads (at start, on SIGHUP, for a remote trial).
  // It changes the document; the typed settings follow from it, as when they were loaded.
  auto adjust = [has_socket, brand_key](config::Settings& s) {
    nlohmann::json doc = s.document;
    if (!brand_key.empty() && doc["remote_config"]["public_keys"].empty())
      doc["remote_config"]["public_keys"] = nlohmann::json::array({brand_key});
    if (!has_socket) doc["api"]["socket"] = s.storage.state_dir + "/api.sock";
    if (doc["printers"].empty()) add_demo_printers(doc);
    if (doc["pos"]["drop_folder"] == "")
      doc["pos"]["drop_folder"] = s.storage.state_dir + "/till-drop";
    auto derived = config::from_document(doc, "the demo's settings");
    if (!derived) {
      for (const auto& e : derived.error())
        log::error("demo", "cannot apply the demo's settings", {{"error", e.describe()}});
      return;
    }
    s = std::move(*derived);
  };
  adjust(settings);
  add_demo_till_files(settings.pos.drop_folder);
  agent::DaemonOptions options{request, true, {}, adjust};
  options.components = [agent_version, first_orders](boost::asio::io_context& io,
                                                     agent::Store& store,
                                                     const config::Settings& s) {
    return make_demo_components(io, store, s, agent_version, first_orders);
  };
  return options;
}

}  // namespace fulfil::demo
