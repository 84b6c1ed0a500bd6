"""Outcomes of a log-in attempt that the log-in page tells apart."""


class InvalidCredentials(Exception):  # noqa: N818 (a domain outcome, not a program error)
    """User name and password do not match, or the user is unknown or disabled; never say which."""


class UnknownUser(InvalidCredentials):
    """The directory asked has no such person (another directory may have)."""


class AmbiguousUser(InvalidCredentials):
    """The name matches several people in a directory: nobody logs in with it, and no later directory is asked."""


class AccountBlocked(InvalidCredentials):
    """The directory accepted the password but refuses the log-in, and says why (``reason``: password_expired,
    must_change_password, disabled, account_expired, locked, not_now, not_here), or Lotsen's own rule refuses it
    (``not_permitted``: not in the group Lotsen requires)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TryAgainSoon(InvalidCredentials):
    """Passwords for this account were tried faster than a person types: this one is not sent to the directory
    (the log-in page answers as for a wrong password)."""


class DirectoryUnavailable(Exception):  # noqa: N818
    """The directory cannot be reached or refuses the service account."""
