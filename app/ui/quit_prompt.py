"""Quitting with messages still to send: say what stays unsent and let the person choose."""

from __future__ import annotations

from enum import Enum

from app.core.delivery import background, outbox
from app.core.delivery.outbox import State
from app.core.store import Store
from app.core.wording import outbox_reason
from app.qt import QtWidgets

PENDING_STATES = (State.QUEUED, State.SENDING, State.RETRYING)


class QuitChoice(Enum):
    KEEP_RUNNING = "keep_running"  # stay in the tray (or minimised) and keep sending
    QUIT = "quit"  # quit; the messages wait for the next start
    CANCEL = "cancel"
    BACKGROUND = "background"  # turn background delivery on, then quit


def pending_summary(store: Store) -> tuple[int, str]:
    """How many messages would stay unsent, and a few words on each (first five)."""
    items = outbox.list_items(store, PENDING_STATES)
    lines = []
    for item in items[:5]:
        subject = item.subject or "(no subject)"
        reason = outbox_reason(item)
        lines.append(f"• “{subject}” — {reason}" if reason else f"• “{subject}”")
    if len(items) > 5:
        lines.append(f"• and {len(items) - 5} more")
    return len(items), "\n".join(lines)


def pending_box(
    parent: QtWidgets.QWidget | None,
    count: int,
    listing: str,
    *,
    tray: bool,
    background_on: bool = False,
) -> tuple[QtWidgets.QMessageBox, dict[QtWidgets.QAbstractButton, QuitChoice]]:
    """The question, its buttons and what each one means."""
    box = QtWidgets.QMessageBox(parent)
    box.setObjectName("quit-with-pending")
    box.setIcon(QtWidgets.QMessageBox.Icon.Question)
    box.setWindowTitle("Quit Relaydesk?")
    many = "messages are" if count != 1 else "message is"
    box.setText(f"<b>Keep sending in the background?</b><p>{count} {many} still in the outbox.</p>")
    if background_on:
        box.setText(f"<b>Quit Relaydesk?</b><p>{count} {many} still in the outbox.</p>")
        box.setInformativeText(
            "Background delivery is on: they are sent when they are due, also after you "
            "quit.\n\n" + listing
        )
    else:
        box.setInformativeText(
            "If Relaydesk quits now, nothing more is sent: these stay unsent until you start "
            "Relaydesk again — unless you let Relaydesk send in the background (it checks the "
            "outbox every minute, with no window open; Settings turns it off).\n\n" + listing
        )
    keep_text = "Keep running in the &tray" if tray else "&Keep running (minimised)"
    choices: dict[QtWidgets.QAbstractButton, QuitChoice] = {}
    accept = QtWidgets.QMessageBox.ButtonRole.AcceptRole
    background = None
    if not background_on:
        background = box.addButton("Send in the &background and quit", accept)
        choices[background] = QuitChoice.BACKGROUND
    keep = box.addButton(keep_text, accept)
    quit_text = "&Quit" if background_on else "&Quit anyway"
    quit_anyway = box.addButton(quit_text, QtWidgets.QMessageBox.ButtonRole.DestructiveRole)
    cancel = box.addButton(QtWidgets.QMessageBox.StandardButton.Cancel)
    choices.update({keep: QuitChoice.KEEP_RUNNING, quit_anyway: QuitChoice.QUIT})
    choices[cancel] = QuitChoice.CANCEL
    box.setDefaultButton(quit_anyway if background_on else background or keep)
    box.setEscapeButton(cancel)
    return box, choices


def ask_about_pending(parent: QtWidgets.QWidget | None, store: Store, *, tray: bool) -> QuitChoice:
    """QUIT at once when nothing is pending; otherwise what the person chose."""
    count, listing = pending_summary(store)
    if count == 0:
        return QuitChoice.QUIT
    box, choices = pending_box(
        parent, count, listing, tray=tray, background_on=background.status().enabled
    )
    box.exec()
    return choices.get(box.clickedButton(), QuitChoice.CANCEL)
