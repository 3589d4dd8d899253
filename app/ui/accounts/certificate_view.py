"""Certificates as a person checks them: names, validity and the whole fingerprint.

One format everywhere: the SHA-256 as ``AB:CD:…`` (what ``openssl x509 -fingerprint
-sha256`` prints and administrators hand out), in lines of eight pairs so no window cuts
it off. Used by the trust question in setup and by the per-account view in Accounts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.core.setup.certificate import CertificateInfo
from app.core.setup.trusted import grouped_fingerprint
from app.qt import QtCore, QtGui, QtWidgets
from app.ui import locale_format

TRUST_WARNING = (
    "Trust it only if this is your own or your company's server and the fingerprint is "
    "the one its administrator gave you. Relaydesk will then accept this exact certificate, "
    "and no other, for this account. If you did not expect this question, cancel: the "
    "connection may be intercepted."
)


def _selectable(label: QtWidgets.QLabel) -> QtWidgets.QLabel:
    label.setTextInteractionFlags(
        QtCore.Qt.TextInteractionFlag.TextSelectableByMouse
        | QtCore.Qt.TextInteractionFlag.TextSelectableByKeyboard
    )
    label.setWordWrap(True)
    return label


def fingerprint_label(sha256: str) -> QtWidgets.QLabel:
    """The whole fingerprint in a fixed-width font, grouped, selectable for copying."""
    label = _selectable(QtWidgets.QLabel(grouped_fingerprint(sha256)))
    label.setWordWrap(False)  # the lines are already short; wrapping would split pairs
    label.setFont(QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont))
    label.setAccessibleName("SHA-256 fingerprint")
    label.setMinimumHeight(label.sizeHint().height())  # four lines, never clipped to three
    return label


def _when(moment: datetime) -> str:
    return locale_format.full(moment.timestamp())


def certificate_rows(info: CertificateInfo | dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) rows for a certificate, from the core's object or its dict form."""
    if isinstance(info, dict):
        subject, issuer = str(info.get("subject", "")), str(info.get("issuer", ""))
        names = list(info.get("dns_names") or [])
        starts = datetime.fromisoformat(str(info["not_before"])) if info.get("not_before") else None
        ends = datetime.fromisoformat(str(info["not_after"])) if info.get("not_after") else None
    else:
        subject, issuer, names = info.subject, info.issuer, list(info.dns_names)
        starts, ends = info.not_before, info.not_after
    rows = [("Issued to", subject), ("Issued by", issuer)]
    if subject and subject == issuer:
        rows[1] = ("Issued by", f"{issuer} (itself: a self-signed certificate)")
    if names:
        rows.append(("Server names", ", ".join(names)))
    if starts is not None:
        rows.append(("Valid from", _when(starts)))
    if ends is not None:
        expired = ends.timestamp() < QtCore.QDateTime.currentSecsSinceEpoch()
        rows.append(("Valid until", _when(ends) + (" — expired" if expired else "")))
    return rows


def certificate_form(info: CertificateInfo | dict[str, Any], sha256: str) -> QtWidgets.QWidget:
    """A form with the certificate's rows and its fingerprint."""
    box = QtWidgets.QWidget()
    form = QtWidgets.QFormLayout(box)
    form.setContentsMargins(0, 0, 0, 0)
    for label, value in certificate_rows(info):
        form.addRow(f"{label}:", _selectable(QtWidgets.QLabel(value)))
    form.addRow("SHA-256:", fingerprint_label(sha256))
    return box


def confirm_trust(
    parent: QtWidgets.QWidget | None, sha256: str, info: dict[str, Any] | None = None
) -> bool:
    """Ask before pinning a certificate; True only after "Trust this certificate"."""
    dialog = QtWidgets.QDialog(parent)
    dialog.setObjectName("trust-certificate")
    dialog.setWindowTitle("Trust this certificate? — Relaydesk")
    dialog.setMinimumWidth(560)
    title = QtWidgets.QLabel("<b>No trusted authority vouches for this server's certificate.</b>")
    title.setWordWrap(True)
    warning = _selectable(QtWidgets.QLabel(TRUST_WARNING))
    details = certificate_form(info or {}, sha256)
    buttons = QtWidgets.QDialogButtonBox()
    trust = buttons.addButton(
        "&Trust this certificate", QtWidgets.QDialogButtonBox.ButtonRole.AcceptRole
    )
    cancel = buttons.addButton(QtWidgets.QDialogButtonBox.StandardButton.Cancel)
    cancel.setDefault(True)  # a stray Enter must not trust anything
    trust.setAutoDefault(False)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    layout = QtWidgets.QVBoxLayout(dialog)
    for widget in (title, details, warning, buttons):
        layout.addWidget(widget)
    return dialog.exec() == QtWidgets.QDialog.DialogCode.Accepted
