-- Customer service resends an email (the console): the copy says which email and who.
ALTER TABLE notification_emails
    ADD COLUMN resent_from bigint REFERENCES notification_emails (id),
    ADD COLUMN resent_by   text;
CREATE INDEX IF NOT EXISTS notification_emails_order ON notification_emails (order_id, created_at);
