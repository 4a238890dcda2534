// Does real store work as fast as it can and journals, with fsync, every command that was
// committed: what the associate or the cloud would have been told. integration_crash kills
// it with SIGKILL at random moments and checks the database against the journal.
//
//   crash_worker STATE_DIR JOURNAL ROUND
//
// Journal lines are "<op-id> <seq>": op-id is ROUND.K/KIND/SUBJECT (K counts the round's
// commands; SUBJECT is the order id, or the SKU of an adjustment) and seq is the outbox
// sequence number of the one event the command wrote. Orders have ids CR-ROUND-N; a new
// round first finishes the orders an earlier round left half-way, as an associate would,
// and goes on receiving the inbound shipment an earlier round left open (SUBJECT: its id).
// Till transactions (till "crash-till", ids T-ROUND-N, SUBJECT the id) are noted in
// STATE_DIR/till-attempts before they are sent and sent twice (a till retrying after a
// timeout); a new round first sends the last ones again, as a till does that never heard
// back. Only the send that applied one is journalled: the others must be duplicates.
// Every tenth order (N % 10 == 5) is a transfer to another store, shipped like a ship order.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "domain/store.hpp"

using namespace fulfil::agent;

namespace {

int journal_fd = -1;
std::string round_id;
int op_counter = 0;

void told(const std::string& kind, const std::string& subject, Store& store) {
  const std::string line = round_id + "." + std::to_string(++op_counter) + "/" + kind + "/" +
                           subject + " " + std::to_string(store.outbox().stats().last_seq) + "\n";
  if (::write(journal_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()) ||
      ::fsync(journal_fd) != 0) {
    std::perror("crash_worker: journal");
    std::_Exit(3);
  }
}

template <class R>
void must(const R& r, const char* what, const std::string& subject) {
  if (!r) {
    std::fprintf(stderr, "crash_worker: %s %s failed: %s\n", what, subject.c_str(),
                 r.error().message.c_str());
    std::_Exit(2);
  }
}

// N of an order id CR-ROUND-N: what happens to the order follows from it.
int order_number(const std::string& id) {
  return std::atoi(id.substr(id.rfind('-') + 1).c_str());
}

const char* const kSkus[] = {"CW-0", "CW-1", "CW-2", "CW-3", "CW-4", "CW-5", "CW-6", "CW-7"};

void seed(Store& store, const CommandContext& ctx) {
  // One transaction: a kill while seeding leaves no half-seeded catalog behind.
  Transaction tx(store.db());
  for (const char* sku : kSkus) {
    must(store.inventory().upsert({sku, std::string("Crash item ") + sku, "Z1", {}, 0}, ctx),
         "upsert", sku);
    must(store.inventory().adjust({sku, AdjustmentKind::receipt, 1000000, "seed"}, ctx), "seed",
         sku);
  }
  tx.commit();
  told("seed", "-", store);
}

// One step of an order's life, chosen by its state; false once it has ended.
bool advance(Store& store, const std::string& id, const CommandContext& ctx) {
  auto o = store.orders().find(id);
  if (!o) {
    std::fprintf(stderr, "crash_worker: order %s vanished\n", id.c_str());
    std::_Exit(2);
  }
  const int n = order_number(id);
  auto& orders = store.orders();
  switch (o->state) {
    case OrderState::routed:
      if (n % 7 == 3) {
        // A reason with no stock effect: "out_of_stock" would count the shelf empty and
        // starve the orders after it (the effects have their own tests).
        must(orders.reject(id, "store_closed", ctx), "reject", id);
        told("reject", id, store);
      } else {
        must(orders.accept(id, ctx), "accept", id);
        told("accept", id, store);
      }
      return true;
    case OrderState::accepted:
      must(orders.start_picking(id, ctx), "start_picking", id);
      told("start", id, store);
      return true;
    case OrderState::picking: {
      std::int64_t picked = 0;
      const OrderLine* open = nullptr;
      for (const auto& l : o->lines) {
        picked += l.picked;
        if (!open && l.open() > 0) open = &l;
      }
      if (n % 11 == 5 && picked > 0) {  // the cloud cancels half-way through picking
        auto r = orders.request_cancel(id, "customer changed their mind", ctx);
        must(r, "cancel", id);
        if (r->outcome != CancelOutcome::cancelled) {
          std::fprintf(stderr, "crash_worker: cancel of %s refused\n", id.c_str());
          std::_Exit(2);
        }
        told("cancel", id, store);
      } else if (open) {
        must(orders.pick_item(id, open->sku, 1, ctx), "pick", id);  // one scan per unit
        told("pick", id, store);
      } else {
        must(orders.complete_picking(id, ctx), "complete_picking", id);
        told("complete", id, store);
      }
      return true;
    }
    case OrderState::picked: {
      if (o->method == DeliveryMethod::pickup) {
        must(orders.ready_for_pickup(id, "P-" + std::to_string(n % 10), ctx), "ready_for_pickup",
             id);
        told("ready", id, store);
        return true;
      }
      Package box{1, "BOX-M", 700, {}};
      for (const auto& l : o->lines)
        if (l.picked > 0) box.items.push_back({l.line_no, l.picked});
      must(orders.pack(id, {box}, ctx), "pack", id);
      told("pack", id, store);
      return true;
    }
    case OrderState::packed:
      if (o->method == DeliveryMethod::ship) {
        must(orders.ship(id, "DHL", "TRK" + id, ctx), "ship", id);
        told("ship", id, store);
      } else {
        must(orders.ready_for_pickup(id, "", ctx), "ready_for_pickup", id);
        told("ready", id, store);
      }
      return true;
    case OrderState::ready_for_pickup:
      if (n % 5 == 1 && o->pickup_attempts == 0) {
        // A wrong code is refused, and the attempt is committed (and counted).
        auto r = orders.collect(id, "WRONG", ctx);
        if (r || r.error().code != DomainErrc::wrong_pickup_code) {
          std::fprintf(stderr, "crash_worker: wrong pickup code for %s not refused\n", id.c_str());
          std::_Exit(2);
        }
        told("wrongcode", id, store);
      } else {
        must(orders.collect(id, o->pickup_code, ctx), "collect", id);
        told("collect", id, store);
      }
      return true;
    default:
      return false;  // ended
  }
}

// The inbound shipment being received: an earlier round's, if it left one open (received
// in part before the kill), else a new one announced as the cloud would.
std::string open_shipment(Store& store, const CommandContext& ctx) {
  static int announced = 0;
  auto open = store.receiving().open_shipments(1);
  if (!open.empty()) return open.front().id;
  const std::string id = "SH-" + round_id + "-" + std::to_string(++announced);
  must(store.receiving().announce({id,
                                   ShipmentKind::asn,
                                   "Crash warehouse",
                                   {id + "-LABEL"},
                                   {{"CW-1", 4}, {"CW-2", 3}, {"CW-3", 2}},
                                   std::nullopt},
                                  ctx),
       "announce", id);
  return id;
}

// One scan at the receiving dock (CW-4 is on no shipment: an unexpected item; every third
// scan damaged); a shipment is closed once 12 units are in, so rounds see closings too.
void receive_step(Store& store, int n, const CommandContext& ctx) {
  const std::string id = open_shipment(store, ctx);
  if (store.receiving().find(id)->totals().received >= 12) {
    must(store.receiving().close(id, ctx), "close", id);
    told("shipclose", id, store);
    return;
  }
  must(store.receiving().receive({id, kSkus[1 + n % 4], 1 + n % 3, n % 3 == 2}, ctx), "receipt",
       id);
  told("shiprecv", id, store);
}

// The till: what it rang up, by the number in its id.
TillTransaction till_transaction(const std::string& id) {
  const int n = order_number(id);
  return {"crash-till",
          id,
          n % 5 == 4 ? TillKind::ret : TillKind::sale,
          {{kSkus[n % 8], TillCode::sku, 1 + n % 3}, {kSkus[(n + 1) % 8], TillCode::sku, 1}},
          std::nullopt};
}

// Sends a till transaction (again); journals it if this send applied it.
void send_till(Store& store, const std::string& id, const CommandContext& ctx,
               bool retry_of_answered = false) {
  auto r = store.till_sales().apply(till_transaction(id), ctx);
  must(r, "till", id);
  if (retry_of_answered && !r->duplicate) {
    std::fprintf(stderr, "crash_worker: till transaction %s applied twice\n", id.c_str());
    std::_Exit(2);
  }
  if (!r->duplicate) told("till", id, store);
}

void note_till_attempt(const std::string& path, const std::string& id) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const std::string line = id + "\n";
  if (fd < 0 || ::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()) ||
      ::fsync(fd) != 0) {
    std::perror("crash_worker: till attempts");
    std::_Exit(3);
  }
  ::close(fd);
}

// The last few transactions the till sent before the kill: it never heard back.
std::vector<std::string> last_till_attempts(const std::string& path) {
  std::vector<std::string> ids;
  if (FILE* f = std::fopen(path.c_str(), "r")) {
    char line[128];
    while (std::fgets(line, sizeof line, f))
      if (std::string l(line); !l.empty() && l.back() == '\n')
        ids.push_back(l.substr(0, l.size() - 1));
    std::fclose(f);
  }
  if (ids.size() > 3) ids.erase(ids.begin(), ids.end() - 3);
  return ids;
}

void finish(Store& store, const std::string& id, CommandContext& ctx) {
  do ctx.now_ms = now_ms();
  while (advance(store, id, ctx));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: crash_worker STATE_DIR JOURNAL ROUND\n");
    return 64;
  }
  const std::string dir = argv[1];
  round_id = argv[3];
  journal_fd = ::open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (journal_fd < 0) {
    std::perror(argv[2]);
    return 1;
  }
  auto opened = Store::open({dir + "/fulfild.db", "quick", 5000}, OrderPolicy{});
  if (!opened) {
    std::fprintf(stderr, "crash_worker: %s\n", opened.error().message.c_str());
    return 1;
  }
  Store& store = **opened;
  CommandContext ctx{{Actor::Kind::device, "crash-worker"}, now_ms()};
  if (store.inventory().sku_count() == 0) seed(store, ctx);

  // The till sends again what it never heard back about; orders an earlier round left
  // half-way are finished.
  const std::string till_attempts = dir + "/till-attempts";
  for (const auto& id : last_till_attempts(till_attempts)) send_till(store, id, ctx);
  for (const auto& o : store.orders().list(std::nullopt, 1000000))
    if (!is_terminal(o.state)) finish(store, o.id, ctx);
  // Tells the test that start-up is over, so a kill it aims at the work lands in the work
  // however slow start-up is (ASan, qemu, a loaded machine).
  if (const int ready = ::open((dir + "/ready-" + round_id).c_str(), O_WRONLY | O_CREAT, 0644);
      ready >= 0)
    ::close(ready);

  for (int n = 0;; ++n) {
    ctx.now_ms = now_ms();
    const std::string id = "CR-" + round_id + "-" + std::to_string(n);
    FulfilmentOrder o;
    o.id = id;
    const bool transfer = n % 10 == 5;
    o.method = n % 3 || transfer ? DeliveryMethod::ship : DeliveryMethod::pickup;
    o.currency = transfer ? "" : "EUR";
    o.customer = {"Crash Test", "", ""};
    if (transfer) {
      o.kind = OrderKind::transfer;
      o.destination_store = "STORE-CRASH";
    }
    if (o.method == DeliveryMethod::ship)
      o.address = {"", "Street 1", "", "Town", "", "12345", "DE"};
    o.lines = {{1, kSkus[n % 8], 1 + n % 3, transfer ? 0 : 1999, 0, 0, ""}};
    if (n % 2) o.lines.push_back({2, kSkus[(n + 3) % 8], 1, transfer ? 0 : 500, 0, 0, ""});
    must(store.orders().receive(o, ctx), "receive", id);
    told("receive", id, store);
    finish(store, id, ctx);

    const auto ended = store.orders().find(id)->state;
    if (n % 4 == 0 && (ended == OrderState::shipped || ended == OrderState::collected)) {
      const Disposition d = n % 8 ? Disposition::restock : Disposition::unsellable;
      must(store.returns().receive({id, {{o.lines[0].sku, 1, d, "too small"}}, ""}, ctx), "return",
           id);
      told("return", id, store);
    }
    if (n % 2 == 1) {
      const std::string till_id = "T-" + round_id + "-" + std::to_string(n);
      note_till_attempt(till_attempts, till_id);
      send_till(store, till_id, ctx);
      send_till(store, till_id, ctx, true);  // the till's retry after a timeout
    }
    if (n % 3 == 0) {
      // correction +2, damage 1, disposal of that damaged unit, correction -1: in this order
      // within a round, so a disposal always finds an unsellable unit.
      const int k = (n / 3) % 4;
      const StockAdjustment a =
          k == 0   ? StockAdjustment{"CW-0", AdjustmentKind::correction, 2, "found"}
          : k == 1 ? StockAdjustment{"CW-0", AdjustmentKind::damage, 1, "dropped"}
          : k == 2 ? StockAdjustment{"CW-0", AdjustmentKind::disposal, 1, "binned"}
                   : StockAdjustment{"CW-0", AdjustmentKind::correction, -1, "lost"};
      must(store.inventory().adjust(a, ctx), "adjust", a.sku);
      told("adjust", a.sku, store);
    }
    receive_step(store, n, ctx);
  }
}
