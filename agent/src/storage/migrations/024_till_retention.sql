-- Retention removes till transactions by when they were applied (retention.till_transactions_days).
CREATE INDEX till_transaction_applied ON till_transaction (applied_at);
