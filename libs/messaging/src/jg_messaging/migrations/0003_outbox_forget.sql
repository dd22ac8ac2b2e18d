-- Erasure (GDPR): the outbox copies of an erased person's events carry their personal data.
-- The published ones are deleted at once; the ones still waiting must go out first (other
-- services need them), so they are flagged and the relay deletes them as soon as Kafka has them.
ALTER TABLE messaging_outbox
    ADD COLUMN IF NOT EXISTS forget_after_send boolean NOT NULL DEFAULT false;
