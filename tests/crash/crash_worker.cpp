// Does real store work as fast as it can and journals (with fsync) every command that
// was committed — what an associate would have been told. The crash test kills it with
// SIGKILL at random moments and then checks the database against the journal.
//   crash_worker STATE_DIR JOURNAL ROUND
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "agent/store.hpp"

using namespace fulfil::agent;

namespace {

int journal_fd = -1;

void told(const std::string& what, Store& store) {
  const std::string line = what + " " + std::to_string(store.outbox().stats().last_seq) + "\n";
  if (::write(journal_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()) ||
      ::fsync(journal_fd) != 0)
    std::_Exit(3);
}

template <class R>
void must(const R& r, const char* what) {
  if (!r) {
    std::fprintf(stderr, "crash_worker: %s failed: %s\n", what, r.error().message.c_str());
    std::_Exit(2);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) return 64;
  const std::string dir = argv[1];
  const std::string round = argv[3];
  journal_fd = ::open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  auto opened = Store::open({dir + "/fulfild.db", "quick", 5000}, OrderPolicy{});
  if (!opened) {
    std::fprintf(stderr, "crash_worker: %s\n", opened.error().message.c_str());
    return 1;
  }
  Store& store = **opened;
  CommandContext ctx{{Actor::Kind::device, "crash-worker"}, now_ms()};
  if (store.inventory().sku_count() == 0) {
    for (int i = 0; i < 8; ++i) {
      const std::string sku = "CW-" + std::to_string(i);
      must(store.inventory().upsert({sku, "Crash item " + std::to_string(i), "Z1", {}, 0}, ctx),
           "upsert");
      must(store.inventory().adjust({sku, AdjustmentKind::receipt, 1000000, "seed"}, ctx), "seed");
    }
    told("seeded", store);
  }
  for (int n = 0;; ++n) {
    ctx.now_ms = now_ms();
    const std::string id = "CR-" + round + "-" + std::to_string(n);
    const std::string sku = "CW-" + std::to_string(n % 8);
    FulfilmentOrder o;
    o.id = id;
    o.method = n % 3 ? DeliveryMethod::ship : DeliveryMethod::pickup;
    o.currency = "EUR";
    o.customer = {"Crash Test", "", ""};
    if (o.method == DeliveryMethod::ship)
      o.address = {"", "Street 1", "", "Town", "", "12345", "DE"};
    o.lines = {{1, sku, 1 + n % 3, 100, 0, 0, ""}};
    must(store.orders().receive(o, ctx), "receive");
    told("received " + id, store);
    must(store.orders().accept(id, ctx), "accept");
    told("accepted " + id, store);
    must(store.orders().start_picking(id, ctx), "start");
    told("picking " + id, store);
    must(store.orders().pick_item(id, sku, 1 + n % 3, ctx), "pick");
    told("picked-item " + id, store);
    must(store.orders().complete_picking(id, ctx), "complete");
    told("picked " + id, store);
    must(store.orders().pack(id, {{1, "BOX", 700, {{1, 1 + n % 3}}}}, ctx), "pack");
    told("packed " + id, store);
    if (o.method == DeliveryMethod::ship) {
      must(store.orders().ship(id, "DHL", "T" + id, ctx), "ship");
      told("shipped " + id, store);
    } else {
      auto code = store.orders().ready_for_pickup(id, ctx);
      must(code, "ready");
      told("ready_for_pickup " + id, store);
      must(store.orders().collect(id, *code, ctx), "collect");
      told("collected " + id, store);
    }
    if (n % 4 == 0) {
      must(store.returns().receive({id, {{sku, 1, Disposition::restock, "crash"}}, ""}, ctx),
           "return");
      told("returned " + id, store);
    }
  }
}
