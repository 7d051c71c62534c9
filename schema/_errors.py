"""The one base of the package's exceptions."""


class Error(Exception):
    """An error of createimage-contract: catch this to catch any of them (a request that cannot
    be read, a run that cannot be made, a bug of ours that stopped a run, ...)."""
