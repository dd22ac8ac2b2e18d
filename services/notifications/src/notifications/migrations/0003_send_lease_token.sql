-- Each claim of an email gets its own lease token: the dispatcher renews the lease while it
-- sends, and records the outcome (sent, retry, failed, suppressed) only under that token, so a
-- replica whose lease ran out (and another replica took the row) changes nothing.
ALTER TABLE notification_emails ADD COLUMN lease_token uuid;
-- The first time the relay deferred this very message (a 4xx to RCPT or DATA): the give-up
-- (give_up_after) counts from there. An unreachable relay never sets it: an outage only delays.
ALTER TABLE notification_emails ADD COLUMN deferred_since timestamptz;
