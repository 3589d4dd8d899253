"""Compose's drafts and signature: saved while typing, restored after a crash, and the
account's signature shown at the end of the text as it will be sent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.core.accounts import identity
from app.core.delivery import drafts
from app.qt import QtGui, Slot

if TYPE_CHECKING:
    from app.core.store import Store
    from app.qt import QTimer, QtWidgets
    from app.ui.compose.writer import BodyEditor
    from app.ui.widgets import AddressField, StatusLine


class DraftKeeping:
    """Mixed into ComposeForm; uses its fields, store and autosave timer."""

    _store: Store
    _autosave: QTimer
    _draft_id: int | None
    _signature: str
    _closed_down: bool
    account: QtWidgets.QComboBox
    to: AddressField
    cc: AddressField
    bcc: AddressField
    subject: QtWidgets.QLineEdit
    body: BodyEditor
    status: StatusLine

    @property
    def sending(self) -> bool:  # pragma: no cover - ComposeForm's own wins
        raise NotImplementedError

    def has_content(self, *, ignore_signature: bool = True) -> bool:  # pragma: no cover
        raise NotImplementedError

    def save_draft(self) -> None:
        """Keep what is typed in the store (restored after a crash); an empty form keeps none."""
        self._autosave.stop()
        if self.sending or self._closed_down:
            return
        if not self.has_content(ignore_signature=True):
            self.forget_draft()
            return
        text, html = self.body.content()
        self._draft_id = drafts.save(
            self._store,
            self._draft_id,
            account=self.account.currentData(),
            to=self.to.text(),
            cc=self.cc.text(),
            bcc=self.bcc.text(),
            subject=self.subject.text(),
            text=text,
            html=html,
        )

    def close_down(self, *, keep: bool) -> None:
        """The app is ending: keep the draft for the next start (a logout, a shutdown) or not
        (the person chose to quit); after this the form never touches the store again."""
        if self._closed_down:
            return
        self.save_draft() if keep else self.forget_draft()
        self._closed_down = True

    def forget_draft(self) -> None:
        """The draft was sent, queued or thrown away: it is not kept any more."""
        self._autosave.stop()
        if self._draft_id is not None and not self._closed_down:
            drafts.delete(self._store, self._draft_id)
            self._draft_id = None

    def restore(self, saved: drafts.SavedDraft) -> None:
        """Fill the form from a kept draft; it goes on saving to the same row."""
        if saved.account is not None and self.account.findData(saved.account) >= 0:
            self.account.setCurrentIndex(self.account.findData(saved.account))
        for field, text in ((self.to, saved.to), (self.cc, saved.cc), (self.bcc, saved.bcc)):
            field.set_text(text)
        self.subject.setText(saved.subject)
        self.body.set_content(saved.text, saved.html)
        self._signature = ""  # what was kept already holds the signature, if any
        self._draft_id = saved.id

    def _apply_signature(self) -> None:
        """Show the account's signature at the end of the text, as it will be sent."""
        name = self.account.currentData()
        block = identity.signature_block(identity.get(self._store, name).signature) if name else ""
        text, _ = self.body.content()
        if block == self._signature:
            return
        if not text.strip() or text == self._signature:
            self.body.set_content(block, None)
        elif self._signature and text.endswith(self._signature):
            self.body.set_content(text[: -len(self._signature)] + block, None)
        else:
            return  # the person wrote over it: leave their text alone
        self._signature = block
        self.body.editor.moveCursor(QtGui.QTextCursor.MoveOperation.Start)

    @Slot()
    def on_body_text_changed(self) -> None:
        if self.body.editor.hasFocus():
            self._autosave.start()
            if not self.sending:
                self.status.clear_text()  # a new message: the last result is old news
