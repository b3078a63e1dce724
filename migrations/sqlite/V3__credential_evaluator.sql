-- The credential evaluator records one credential_expired KPI event per credential and expiry
-- date; it checks for an earlier one on this index. Partial: only credential events are in it,
-- so the appointment events (the bulk of the table) cost nothing extra.
CREATE INDEX ix_kpi_credential ON ops_kpi_events(related_entity_id, event_type)
    WHERE related_entity_type = 'credential';
