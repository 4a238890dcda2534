#include "sync/event_batch.hpp"

namespace fulfil::sync {

std::string batch_body(const std::string& store_id, const std::vector<agent::OutboxEvent>& events) {
  std::string out = "{\"protocol\":" + std::to_string(kProtocolVersion) +
                    ",\"store_id\":" + nlohmann::json(store_id).dump() + ",\"events\":[";
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    if (i) out += ',';
    out += "{\"id\":" + nlohmann::json(e.event_id).dump() + ",\"seq\":" + std::to_string(e.seq) +
           ",\"type\":" + nlohmann::json(e.type).dump() +
           ",\"subject\":" + nlohmann::json(e.subject).dump() +
           ",\"occurred_at\":" + std::to_string(e.created_at) +
           ",\"payload\":" + (e.payload.empty() ? std::string("{}") : e.payload) + "}";
  }
  return out + "]}";
}

}  // namespace fulfil::sync
