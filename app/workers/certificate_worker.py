"""Fetching the certificate an account's server presents, on a background thread."""

from __future__ import annotations

from app.core.accounts.model import Account
from app.core.errors import RelayError
from app.core.setup.trust import fetch_certificate
from app.qt import Signal
from app.workers.base import Worker


class CertificateWorker(Worker):
    """Connects once, reads the certificate (nothing is logged in or sent), reports it."""

    fetched = Signal(object)  # app.core.setup.certificate.CertificateInfo
    failed = Signal(object)  # app.core.errors.RelayError

    def __init__(self, account: Account) -> None:
        super().__init__()
        self._account = account

    def work(self) -> None:
        try:
            self.fetched.emit(fetch_certificate(self._account))
        except RelayError as error:
            self.failed.emit(error)
