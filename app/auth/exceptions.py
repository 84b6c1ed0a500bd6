"""Outcomes of a log-in attempt that the log-in page tells apart."""


class InvalidCredentials(Exception):  # noqa: N818 (a domain outcome, not a program error)
    """User name and password do not match, or the user is unknown or disabled; never say which."""


class DirectoryUnavailable(Exception):  # noqa: N818
    """The directory cannot be reached or refuses the service account."""
