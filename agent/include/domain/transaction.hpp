#pragma once
// Internal to agent/: the transaction boundary of every domain command. A command is one
// transaction: it commits when its body succeeds and rolls back, leaving the store exactly
// as it was, when the body returns an error or the database fails (a full disk, an I/O
// error), which becomes DomainErrc::storage for the caller instead of an exception.
#include "domain/domain.hpp"
#include "storage/database.hpp"

namespace fulfil::agent {

template <class F>
auto commit_or_rollback(Database& db, F&& body) -> decltype(body()) {
  try {
    Transaction tx(db);
    auto result = body();
    if (result) tx.commit();
    return result;
  } catch (const StorageFailure& e) {
    return fail(DomainErrc::storage, storage_failure_message(e));
  }
}

}  // namespace fulfil::agent
