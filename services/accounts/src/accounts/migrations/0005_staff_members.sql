-- The shop's team: customer-service agents and managers who sign in to the console.
CREATE TABLE staff_members (
    id            uuid PRIMARY KEY,
    email         text NOT NULL,
    name          text NOT NULL,
    role          text NOT NULL CHECK (role IN ('agent', 'manager')),
    password_hash text NOT NULL,
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL,
    created_by    text NOT NULL
);
CREATE UNIQUE INDEX staff_members_email_key ON staff_members (email);
