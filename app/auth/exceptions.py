"""Outcomes of a log-in attempt that the log-in page tells apart."""


class InvalidCredentials(Exception):  # noqa: N818 (a domain outcome, not a program error)
    """User name and password do not match, or the user is unknown or disabled; never say which."""


class UnknownUser(InvalidCredentials):
    """The directory asked has no such person (another directory may have)."""


class AccountBlocked(InvalidCredentials):
    """The directory accepted the password but refuses the log-in, and says why (``reason``: password_expired,
    must_change_password, disabled, account_expired, locked, not_now, not_here), or Lotsen's own rule refuses it
    (``not_permitted``: not in the group Lotsen requires)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TryAgainSoon(InvalidCredentials):
    """A password was just tried for this account and found wrong: the next try waits a few seconds, so that
    nothing feeds the directory's lock-out counter faster than a person types."""


class DirectoryUnavailable(Exception):  # noqa: N818
    """The directory cannot be reached or refuses the service account."""
