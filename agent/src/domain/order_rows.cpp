#include "order_rows.hpp"

namespace fulfil::agent {

nlohmann::json customer_json(const Customer& c) {
  return {{"name", c.name}, {"email", c.email}, {"phone", c.phone}};
}

nlohmann::json address_json(const Address& a) {
  return {{"name", a.name},     {"line1", a.line1},       {"line2", a.line2},    {"city", a.city},
          {"region", a.region}, {"postcode", a.postcode}, {"country", a.country}};
}

Customer customer_from(const nlohmann::json& j) {
  return {j.value("name", ""), j.value("email", ""), j.value("phone", "")};
}

Address address_from(const nlohmann::json& j) {
  return {j.value("name", ""),   j.value("line1", ""),  j.value("line2", ""),
          j.value("city", ""),   j.value("region", ""), j.value("postcode", ""),
          j.value("country", "")};
}

std::optional<FulfilmentOrder> load_order(Database& db, const std::string& id) {
  FulfilmentOrder o;
  {
    auto s = db.prepare(
        "SELECT id, order_ref, state, delivery_method, customer, address, currency, routed_at, "
        "accept_by, ship_by, reject_reason, carrier, tracking, pickup_code, pickup_attempts, "
        "updated_at, on_hold, pickup_shelf, capacity_flag, kind, destination_store, notes "
        "FROM fulfilment_order WHERE id=?");
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    o.id = s.text(0);
    o.order_ref = s.text(1);
    o.state = state_from(s.text(2)).value_or(OrderState::routed);
    o.method = method_from(s.text(3)).value_or(DeliveryMethod::ship);
    o.customer = customer_from(nlohmann::json::parse(s.text(4)));
    o.address = address_from(nlohmann::json::parse(s.text(5)));
    o.currency = s.text(6);
    o.routed_at = s.int64(7);
    o.accept_by = s.int64(8);
    o.ship_by = s.int64(9);
    o.reject_reason = s.text(10);
    o.carrier = s.text(11);
    o.tracking = s.text(12);
    o.pickup_code = s.text(13);
    o.pickup_attempts = static_cast<int>(s.int64(14));
    o.updated_at = s.int64(15);
    o.on_hold = s.int64(16) != 0;
    o.pickup_shelf = s.text(17);
    o.capacity_flag = s.text(18);
    o.kind = order_kind_from(s.text(19)).value_or(OrderKind::customer);
    o.destination_store = s.text(20);
    o.notes = s.text(21);
  }
  {
    auto s = db.prepare(
        "SELECT line_no, sku, quantity, unit_price_minor, picked, rejected, reject_reason "
        "FROM order_line WHERE order_id=? ORDER BY line_no");
    s.bind(1, id);
    while (s.step())
      o.lines.push_back({static_cast<int>(s.int64(0)), s.text(1), s.int64(2), s.int64(3),
                         s.int64(4), s.int64(5), s.text(6)});
  }
  {
    auto s = db.prepare(
        "SELECT p.package_no, p.box_type, p.weight_g, i.line_no, i.quantity, p.tracking "
        "FROM package p "
        "JOIN package_item i USING (order_id, package_no) WHERE p.order_id=? "
        "ORDER BY p.package_no, i.line_no");
    s.bind(1, id);
    while (s.step()) {
      const int no = static_cast<int>(s.int64(0));
      if (o.packages.empty() || o.packages.back().package_no != no)
        o.packages.push_back({no, s.text(1), s.int64(2), {}, s.text(5)});
      o.packages.back().items.push_back({static_cast<int>(s.int64(3)), s.int64(4)});
    }
  }
  // Both from the history the transitions write: one source, nothing to keep in step. Read
  // only where an order can have been made ready for pickup: every load of an order being
  // picked would otherwise read its whole history (each pick adds a row), which halved the
  // scan rate (bench_terminal, POST scan).
  const bool shelved = o.state == OrderState::ready_for_pickup ||
                       o.state == OrderState::collected || o.state == OrderState::cancelled;
  if (o.method == DeliveryMethod::pickup && shelved) {
    auto s = db.prepare(
        "SELECT coalesce(max(CASE WHEN to_state='ready_for_pickup' AND "
        "from_state<>'ready_for_pickup' THEN at END), 0), "
        "count(CASE WHEN action='send_pickup_notice' THEN 1 END) "
        "FROM order_history WHERE order_id=?");
    s.bind(1, id);
    if (s.step()) {
      o.ready_at = s.int64(0);
      o.pickup_notices = static_cast<int>(s.int64(1));
    }
  }
  return o;
}

// The phone as the queue's search compares it (migration 014 fills old rows the same way).
std::string phone_search(const std::string& phone) {
  std::string out;
  for (char c : phone)
    if (c != ' ' && c != '+' && c != '-' && c != '(' && c != ')') out += c;
  return out;
}

void insert_order(Database& db, const FulfilmentOrder& o) {
  db.prepare(
        "INSERT INTO fulfilment_order (id, order_ref, state, delivery_method, customer, address, "
        "currency, routed_at, accept_by, ship_by, pickup_code, updated_at, customer_name, "
        "phone_search, capacity_flag, kind, destination_store, notes) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
      .bind(1, o.id)
      .bind(2, o.order_ref)
      .bind(3, state_name(o.state))
      .bind(4, method_name(o.method))
      .bind(5, customer_json(o.customer).dump())
      .bind(6, address_json(o.address).dump())
      .bind(7, o.currency)
      .bind(8, o.routed_at)
      .bind(9, o.accept_by)
      .bind(10, o.ship_by)
      .bind(11, o.pickup_code)
      .bind(12, o.updated_at)
      .bind(13, o.customer.name)
      .bind(14, phone_search(o.customer.phone))
      .bind(15, o.capacity_flag)
      .bind(16, order_kind_name(o.kind))
      .bind(17, o.destination_store)
      .bind(18, o.notes)
      .run();
  for (const auto& l : o.lines)
    db.prepare(
          "INSERT INTO order_line (order_id, line_no, sku, quantity, unit_price_minor) "
          "VALUES (?,?,?,?,?)")
        .bind(1, o.id)
        .bind(2, l.line_no)
        .bind(3, l.sku)
        .bind(4, l.quantity)
        .bind(5, l.unit_price_minor)
        .run();
}

void update_order(Database& db, const FulfilmentOrder& o) {
  db.prepare(
        "UPDATE fulfilment_order SET state=?, reject_reason=?, carrier=?, tracking=?, "
        "pickup_code=?, pickup_attempts=?, updated_at=?, on_hold=?, address=?, pickup_shelf=? "
        "WHERE id=?")
      .bind(1, state_name(o.state))
      .bind(2, o.reject_reason)
      .bind(3, o.carrier)
      .bind(4, o.tracking)
      .bind(5, o.pickup_code)
      .bind(6, o.pickup_attempts)
      .bind(7, o.updated_at)
      .bind(8, o.on_hold ? 1 : 0)
      .bind(9, address_json(o.address).dump())
      .bind(10, o.pickup_shelf)
      .bind(11, o.id)
      .run();
}

void update_line(Database& db, const std::string& order_id, const OrderLine& l) {
  db.prepare(
        "UPDATE order_line SET picked=?, rejected=?, reject_reason=? WHERE order_id=? AND "
        "line_no=?")
      .bind(1, l.picked)
      .bind(2, l.rejected)
      .bind(3, l.reject_reason)
      .bind(4, order_id)
      .bind(5, l.line_no)
      .run();
}

void insert_packages(Database& db, const std::string& order_id,
                     const std::vector<Package>& packages) {
  for (const auto& p : packages) {
    db.prepare("INSERT INTO package (order_id, package_no, box_type, weight_g) VALUES (?,?,?,?)")
        .bind(1, order_id)
        .bind(2, p.package_no)
        .bind(3, p.box_type)
        .bind(4, p.weight_g)
        .run();
    for (const auto& i : p.items)
      db.prepare(
            "INSERT INTO package_item (order_id, package_no, line_no, quantity) VALUES (?,?,?,?)")
          .bind(1, order_id)
          .bind(2, p.package_no)
          .bind(3, i.line_no)
          .bind(4, i.quantity)
          .run();
  }
}

void delete_packages(Database& db, const std::string& order_id) {
  // A carrier label is bought for a package as packed; a new packing gets its own.
  for (const char* sql :
       {"DELETE FROM package_item WHERE order_id=?", "DELETE FROM carrier_label WHERE order_id=?",
        "DELETE FROM package WHERE order_id=?"})
    db.prepare(sql).bind(1, order_id).run();
}

void update_package_tracking(Database& db, const std::string& order_id, int package_no,
                             const std::string& tracking) {
  db.prepare("UPDATE package SET tracking=? WHERE order_id=? AND package_no=?")
      .bind(1, tracking)
      .bind(2, order_id)
      .bind(3, package_no)
      .run();
}

std::optional<std::string> order_id_for_ref(Database& db, const std::string& order_ref) {
  if (order_ref.empty()) return std::nullopt;
  auto s = db.prepare(
      "SELECT id, state FROM fulfilment_order WHERE order_ref=? COLLATE NOCASE "
      "ORDER BY routed_at DESC, id DESC");
  s.bind(1, order_ref);
  std::optional<std::string> newest;
  while (s.step()) {
    if (!newest) newest = s.text(0);
    const auto state = state_from(s.text(1));
    if (state && !is_terminal(*state)) return s.text(0);
  }
  return newest;
}

}  // namespace fulfil::agent
