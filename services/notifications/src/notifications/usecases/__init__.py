"""One function per event reaction or command: the transaction, the repository calls and the
domain decision meet here.

- :mod:`.emails`: the emails an event gives, recorded as send intents with the inbox record
  (:func:`~.emails.send_emails`, and the shared :func:`~.emails.record_emails`);
- :mod:`.orders`: a refused payment is remembered; a confirmation after it is withheld;
- :mod:`.erasure`: an erasure request (and the erasure) suppresses and forgets the customer;
- :mod:`.delivery`: the dispatcher's steps (claim, renew the lease, record the outcome);
- :mod:`.previews`: the rendered examples served in development.
"""
