"""Mail in: the support functions' mailboxes, read over IMAP, become cases and replies."""
