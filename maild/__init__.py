"""maild: an email-queue processing daemon for customer-support teams."""

__version__ = "0.1.0"
