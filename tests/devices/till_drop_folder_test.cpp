// The POS drop folder over a real directory: JSON and CSV files applied and moved to
// done/, bad ones quarantined with their error, each transaction applied once however
// many files carry it, and half-written files left alone.
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "devices/till_drop_folder.hpp"
#include "test_support.hpp"

namespace fulfil::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct DropFolder {
  TestStore store = open_test_store();
  std::string folder = store.dir->path() + "/till-drop";
  config::Settings settings;
  boost::asio::io_context io;
  int applied_calls = 0;
  std::unique_ptr<agent::TillDropFolder> importer;

  DropFolder() {
    seed_catalog(*store, 3, 10);
    fs::create_directories(folder);
    settings =
        *config::load({std::nullopt, {"pos.drop_folder=" + folder, "pos.drop_till_id=till-7"}});
    importer =
        std::make_unique<agent::TillDropFolder>(io, *store, settings, [this] { ++applied_calls; });
  }
  // One pass, run to its end on this thread's loop.
  agent::TillDropPass pass() {
    agent::TillDropPass out;
    bool done = false;
    importer->pass([&](const agent::TillDropPass& p) {
      out = p;
      done = true;
    });
    io.restart();
    io.run();
    REQUIRE(done);
    return out;
  }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(fs::path(folder) / name, std::ios::binary) << text;
  }
  bool in(const std::string& sub, const std::string& name) {
    return fs::exists(fs::path(folder) / sub / name);
  }
  std::string read(const std::string& path) {
    std::ifstream in(fs::path(folder) / path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  std::int64_t on_hand(const std::string& sku) { return store->inventory().level(sku)->on_hand; }
};

std::string json_sale(const std::string& id, std::int64_t qty) {
  return json{{"transaction_id", id},
              {"kind", "sale"},
              {"lines", json::array({{{"sku", "SKU-0001"}, {"quantity", qty}}})}}
      .dump();
}

TEST_CASE("a JSON and a CSV till file are applied and moved to done/") {
  DropFolder d;
  d.write("0001.json", json_sale("R-1", 2));
  d.write("0002.CSV",
          "transaction_id,kind,sku_or_barcode,quantity\nR-2,return,SKU-0002,1\nR-2,"
          "return," +
              sample_gtin13(3) + ",4\n");
  auto p = d.pass();
  CHECK(p.applied == 2);
  CHECK(p.quarantined == 0);
  CHECK(d.applied_calls == 1);
  CHECK(d.in("done", "0001.json"));
  CHECK(d.in("done", "0002.CSV"));
  CHECK_FALSE(fs::exists(fs::path(d.folder) / "0001.json"));
  CHECK(d.on_hand("SKU-0001") == 8);
  CHECK(d.on_hand("SKU-0002") == 11);
  CHECK(d.on_hand("SKU-0003") == 14);
  // The files' till is pos.drop_till_id; the actor is the drop folder.
  auto t = d.store->till_sales().find("till-7", "R-2");
  REQUIRE(t.has_value());
  CHECK(t->kind == agent::TillKind::ret);
  CHECK(invariant_violations(d.store->db()).empty());
  CHECK(d.pass().applied == 0);  // nothing left
}

TEST_CASE("a bad till file is quarantined with a note of what was wrong; nothing changes") {
  DropFolder d;
  d.write("bad.json", "{\"transaction_id\": \"R-1\", ");
  d.write("unknown.json", json{{"transaction_id", "R-2"},
                               {"kind", "sale"},
                               {"lines", json::array({{{"sku", "NOPE"}, {"quantity", 1}}})}}
                              .dump());
  d.write("short.csv", "transaction_id,kind,sku_or_barcode,quantity\nR-3,sale,SKU-0001\n");
  d.write("huge.json", std::string(agent::kMaxTillFileBytes + 1, ' '));
  const auto before = fingerprint(d.store->db());
  auto p = d.pass();
  CHECK(p.quarantined == 4);
  CHECK(p.applied == 0);
  CHECK(d.applied_calls == 0);
  CHECK(fingerprint(d.store->db()) == before);
  for (const char* name : {"bad.json", "unknown.json", "short.csv", "huge.json"}) {
    CHECK(d.in("quarantine", name));
    CHECK(d.in("quarantine", std::string(name) + ".error.txt"));
  }
  CHECK(d.read("quarantine/bad.json.error.txt").find("not valid JSON") != std::string::npos);
  CHECK(d.read("quarantine/unknown.json.error.txt")
            .find("unknown_sku: lines[0].sku: unknown SKU 'NOPE'") != std::string::npos);
  CHECK(d.read("quarantine/short.csv.error.txt")
            .find("line 2: 4 comma-separated values expected, got 3") != std::string::npos);
  CHECK(d.read("quarantine/huge.json.error.txt").find("at most 262144") != std::string::npos);
}

TEST_CASE("a transaction in two files, or already applied before a crash, is applied once") {
  DropFolder d;
  // As if fulfild had applied a.json and was killed before moving it.
  auto first = agent::till_transaction_from_json(json::parse(json_sale("R-5", 3)), "till-7");
  REQUIRE(d.store->till_sales().apply(*first, ctx()));
  d.write("a.json", json_sale("R-5", 3));
  d.write("b.json", json_sale("R-5", 3));  // the till wrote it twice
  auto p = d.pass();
  CHECK(p.applied == 0);
  CHECK(p.duplicates == 2);
  CHECK(d.in("done", "a.json"));
  CHECK(d.in("done", "b.json"));
  CHECK(d.on_hand("SKU-0001") == 7);
  // The same name again (a till that reuses names) keeps both in done/.
  d.write("a.json", json_sale("R-6", 1));
  CHECK(d.pass().applied == 1);
  CHECK(d.in("done", "a.json.1"));
  CHECK(d.on_hand("SKU-0001") == 6);
  // The same key with other content is a conflict: quarantined, naming the key.
  d.write("c.json", json_sale("R-6", 2));
  CHECK(d.pass().quarantined == 1);
  CHECK(d.read("quarantine/c.json.error.txt").find("till-7/R-6") != std::string::npos);
  CHECK(invariant_violations(d.store->db()).empty());
}

TEST_CASE("files being written (a leading '.') and other names are left alone") {
  DropFolder d;
  d.write(".0001.json.tmp", json_sale("R-1", 1));
  d.write(".0002.json", json_sale("R-2", 1));
  d.write("notes.txt", "hello");
  auto p = d.pass();
  CHECK(p.applied == 0);
  CHECK(p.quarantined == 0);
  CHECK(fs::exists(fs::path(d.folder) / ".0001.json.tmp"));
  CHECK(fs::exists(fs::path(d.folder) / ".0002.json"));
  CHECK(fs::exists(fs::path(d.folder) / "notes.txt"));
  // The till's rename makes it whole: now it is read.
  fs::rename(fs::path(d.folder) / ".0001.json.tmp", fs::path(d.folder) / "0001.json");
  CHECK(d.pass().applied == 1);
}

TEST_CASE("a drop folder that cannot be made is an alarm, not a crash") {
  DropFolder d;
  d.write("blocker", "a file where the folder should be");
  d.settings.pos.drop_folder = d.folder + "/blocker/inner";
  auto p = d.pass();
  CHECK_FALSE(p.error.empty());
  auto h = d.importer->health();
  REQUIRE(h["alarms"].size() == 1);
  d.settings.pos.drop_folder = "";
  CHECK(d.importer->health().is_null());
}

}  // namespace
}  // namespace fulfil::test
