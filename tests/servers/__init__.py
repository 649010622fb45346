"""Real servers (Dovecot IMAP, …) that tests start on loopback ports and stop by pid."""
