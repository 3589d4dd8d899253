"""Fetching the certificate an account's server presents, on a background thread."""

from __future__ import annotations

from app.core.accounts.model import Account
from app.core.errors import RelayError
from app.core.setup.trust import fetch_certificate
from app.qt import QObject, Signal
from app.workers.base import Worker, WorkerPool


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


class CertificateFetcher(QObject):
    """Starts one fetch at a time and relays its answer in the GUI thread."""

    fetched = Signal(object)
    failed = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = WorkerPool(self)

    @property
    def running(self) -> bool:
        return self._pool.busy

    def start(self, account: Account) -> None:
        worker = CertificateWorker(account)
        worker.fetched.connect(self.fetched)
        worker.failed.connect(self.failed)
        self._pool.start(worker, name="fetch-certificate")

    def shutdown(self) -> None:
        self._pool.shutdown()  # a fetch ends within its 5-second timeout
