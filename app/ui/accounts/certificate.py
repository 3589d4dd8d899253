"""Accounts → Certificate…: what one account trusts, the server's certificate now, Remove."""

from __future__ import annotations

from app.core.accounts.model import Account, Security
from app.core.errors import RelayError
from app.core.setup import trusted
from app.core.setup.certificate import CertificateInfo
from app.core.store import Store
from app.qt import QTimer, QtWidgets, Signal, Slot
from app.ui.accounts.certificate_view import certificate_form, fingerprint_label
from app.ui.widgets import StatusLine
from app.workers.base import WorkerPool
from app.workers.certificate_worker import CertificateWorker

FACE = "gui"


class CertificateDialog(QtWidgets.QDialog):
    """The trusted certificate (pin) or CA file of an account, checked against the server."""

    trust_removed = Signal(str)  # account name

    def __init__(
        self, store: Store, account: Account, parent: QtWidgets.QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("account-certificate")
        self._store, self.account = store, account
        self.setWindowTitle(f"Certificate of “{account.name}” — Relaydesk")
        self.setMinimumWidth(600)
        self._fetches = WorkerPool(self)
        self.trust = trusted.trusted_for(account)

        self.summary = QtWidgets.QLabel()
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("What this account trusts")
        self.trusted_box = QtWidgets.QGroupBox("Trusted by this account")
        self.server_box = QtWidgets.QGroupBox("The server's certificate now")
        self.server_layout = QtWidgets.QVBoxLayout(self.server_box)
        self.server_status = StatusLine()
        self.server_status.setAccessibleName("Server certificate check")
        self.server_layout.addWidget(self.server_status)
        self._server_form: QtWidgets.QWidget | None = None
        self.check = QtWidgets.QPushButton("&Check the server now")
        self.remove = QtWidgets.QPushButton("&Remove trust…")
        self.remove.setToolTip("From then on only certificates your system trusts are accepted.")
        close = QtWidgets.QPushButton("&Close")
        close.setDefault(True)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.check)
        buttons.addWidget(self.remove)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.trusted_box)
        layout.addWidget(self.server_box)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.check.clicked.connect(self.on_check_clicked)
        self.remove.clicked.connect(self.on_remove_clicked)
        close.clicked.connect(self.accept)
        self._fill_trusted()
        self.check.setEnabled(account.security is not Security.NONE)
        self.remove.setEnabled(self.trust.any)

    def _fill_trusted(self) -> None:
        layout = QtWidgets.QVBoxLayout(self.trusted_box)
        if self.trust.pin_sha256:
            self.summary.setText(
                f"“{self.account.name}” accepts exactly one certificate for "
                f"{self.account.host}: the one with this fingerprint. Any other is refused."
            )
            layout.addWidget(fingerprint_label(self.trust.pin_sha256))
        if self.trust.ca_file:
            if not self.trust.pin_sha256:
                self.summary.setText(
                    f"“{self.account.name}” also trusts the certificate authority in "
                    f"{self.trust.ca_file}, besides those your system trusts."
                )
            layout.addWidget(QtWidgets.QLabel(f"CA file: {self.trust.ca_file}"))
            for info in self.trust.ca_certificates:
                layout.addWidget(certificate_form(info, info.sha256))
            if not self.trust.ca_certificates:
                layout.addWidget(QtWidgets.QLabel("The file cannot be read any more."))
        if not self.trust.any:
            self.summary.setText(
                f"“{self.account.name}” trusts only the certificate authorities your system "
                "trusts: nothing extra to review."
            )
            self.trusted_box.hide()

    # -- slots ------------------------------------------------------------------
    @Slot()
    def on_check_clicked(self) -> None:
        if self._fetches.busy:
            return
        self.check.setEnabled(False)
        self.server_status.show_text(f"Connecting to {self.account.host}…")
        worker = CertificateWorker(self.account)
        worker.fetched.connect(self.on_fetch_fetched)
        worker.failed.connect(self.on_fetch_failed)
        self._fetches.start(worker, name="fetch-certificate")

    @Slot(object)
    def on_fetch_fetched(self, info: CertificateInfo) -> None:
        self.check.setEnabled(True)
        if self._server_form is not None:
            self._server_form.deleteLater()
        self._server_form = certificate_form(info, info.sha256)
        self.server_layout.addWidget(self._server_form)
        # Grow once the new rows are laid out (on the next turn of the event loop), rather
        # than clip the fingerprint's last line.
        QTimer.singleShot(0, self.grow_to_fit)
        pin = self.trust.pin_sha256
        if pin and pin == info.sha256:
            self.server_status.show_text("The server presents the trusted certificate.", "ok")
        elif pin:
            self.server_status.show_text(
                "The server presents a different certificate than the trusted one: sending "
                "is refused. If your administrator renewed it, compare the new fingerprint, "
                "then remove the old trust and test the account again.",
                "error",
            )
        else:
            self.server_status.show_text(f"{self.account.host} presents this certificate.")

    @Slot()
    def grow_to_fit(self) -> None:
        wanted = self.sizeHint()
        self.resize(max(self.width(), wanted.width()), max(self.height(), wanted.height()))

    @Slot(object)
    def on_fetch_failed(self, error: RelayError) -> None:
        self.check.setEnabled(True)
        self.server_status.show_text(f"{error.message} {error.hint}", "error")

    @Slot()
    def on_remove_clicked(self) -> None:
        box = QtWidgets.QMessageBox(
            QtWidgets.QMessageBox.Icon.Question,
            "Remove trust? — Relaydesk",
            f"Stop trusting this certificate for “{self.account.name}”? Sending then works "
            "only if a certificate authority your system trusts vouches for the server.",
            parent=self,
        )
        box.setObjectName("remove-trust")
        remove = box.addButton("&Remove trust", QtWidgets.QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(box.addButton(QtWidgets.QMessageBox.StandardButton.Cancel))
        box.exec()
        if box.clickedButton() is not remove:
            return
        try:
            self.account = trusted.remove_trust(self._store, self.account, face=FACE)
        except RelayError as error:
            self.server_status.show_text(f"{error.message} {error.hint}", "error")
            return
        self.trust = trusted.trusted_for(self.account)
        self.remove.setEnabled(False)
        self.trusted_box.hide()
        self.summary.setText(
            f"Removed. “{self.account.name}” now trusts only the certificate authorities "
            "your system trusts."
        )
        self.trust_removed.emit(self.account.name)

    def done(self, result: int) -> None:
        self._fetches.shutdown()  # a fetch ends within its 5-second timeout
        super().done(result)
