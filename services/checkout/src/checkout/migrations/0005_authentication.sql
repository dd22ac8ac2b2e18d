-- What the latest authorised hold covers (revision, lines, shipping method): a modification
-- whose new total is never authenticated (3-D Secure) goes back to it. Null for orders
-- authorised before this column existed.
ALTER TABLE orders ADD COLUMN authorized_content jsonb;
