"""Small widgets shared by compose and quick-send: validated address fields, status lines."""

from __future__ import annotations

from app.core.errors import InvalidAddress
from app.qt import QtCore, QtGui, QtWidgets, Signal

_PALETTE_EVENTS = (QtCore.QEvent.Type.PaletteChange, QtCore.QEvent.Type.ApplicationPaletteChange)


def bring_to_front(window: QtWidgets.QWidget) -> None:
    """Show, un-minimise and raise a window (where the platform can raise at all)."""
    window.showNormal() if window.isMinimized() else window.show()
    if QtGui.QGuiApplication.platformName() != "offscreen":  # it warns that it cannot
        window.raise_()
        window.activateWindow()


def row_table(columns: tuple[str, ...], name: str) -> QtWidgets.QTableWidget:
    """A read-only table that selects one whole row at a time (Accounts, Outbox)."""
    table = QtWidgets.QTableWidget(0, len(columns))
    table.setAccessibleName(name)
    table.setHorizontalHeaderLabels(list(columns))
    table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().hide()
    table.setWordWrap(False)
    return table


def is_dark(widget: QtWidgets.QWidget) -> bool:
    # The window's palette: a widget with a style sheet keeps a palette of its own.
    window = widget.window().palette().color(QtGui.QPalette.ColorRole.Window)
    return window.lightness() < 128


def tone(widget: QtWidgets.QWidget, kind: str) -> str:
    """A colour for error / warning / ok text that reads well on this palette."""
    light = {"error": "#b71c1c", "warning": "#8a5300", "ok": "#1b5e20"}
    dark = {"error": "#ff8a80", "warning": "#ffcc80", "ok": "#a5d6a7"}
    return (dark if is_dark(widget) else light)[kind]


class StatusLine(QtWidgets.QLabel):
    """A word-wrapped line for results and reasons, coloured by kind."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(
            self.textInteractionFlags() | QtGui.Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self._kind = ""
        self.hide()

    def show_text(self, text: str, kind: str = "") -> None:
        self._kind = kind
        self._colour()
        self.setText(text)
        self.setVisible(bool(text))

    def _colour(self) -> None:
        # A palette, not a style sheet: it follows later palette changes (dark mode).
        role = QtGui.QPalette.ColorRole.WindowText
        if not self._kind:
            if self.palette().resolveMask():
                self.setPalette(QtGui.QPalette())  # inherit again
            return
        wanted = QtGui.QColor(tone(self, self._kind))
        if self.palette().color(role) != wanted:
            palette = self.palette()
            palette.setColor(role, wanted)
            self.setPalette(palette)

    def changeEvent(self, event: QtCore.QEvent) -> None:  # noqa: N802 - Qt override
        super().changeEvent(event)
        if event.type() in _PALETTE_EVENTS:
            self._colour()

    def clear_text(self) -> None:
        self.show_text("")


class AddressCompleter(QtWidgets.QCompleter):
    """Completes the address being typed after the last comma, from earlier recipients."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.model_ = QtCore.QStringListModel(self)
        self.setModel(self.model_)
        self.setCaseSensitivity(QtCore.Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterMode(QtCore.Qt.MatchFlag.MatchContains)  # "bob" finds "Bob <b@x>" too
        self.setMaxVisibleItems(8)

    def set_addresses(self, addresses: list[str]) -> None:
        self.model_.setStringList(addresses)

    def splitPath(self, path: str) -> list[str]:  # noqa: N802 - Qt override
        return [path.rpartition(",")[2].strip()]

    def pathFromIndex(  # noqa: N802 - Qt override
        self, index: QtCore.QModelIndex | QtCore.QPersistentModelIndex
    ) -> str:
        # Keep what was typed before the last comma; replace only the address being typed.
        widget = self.widget()
        typed = widget.text() if isinstance(widget, QtWidgets.QLineEdit) else ""
        head, comma, _ = typed.rpartition(",")
        chosen = str(index.data())
        return f"{head}, {chosen}" if comma else chosen


class AddressField(QtWidgets.QWidget):
    """A line for one or more addresses.

    Checked on every keystroke (Send stays disabled while the line is wrong), but the
    problem is shown only once the person leaves the field: "b" is not an error yet.
    """

    validity_changed = Signal()

    def __init__(self, name: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QtWidgets.QLineEdit()
        self.edit.setAccessibleName(f"{name} addresses")
        self.edit.setPlaceholderText("name@example.com, other@example.org")
        self.edit.setClearButtonEnabled(True)
        self.completer = AddressCompleter(self.edit)
        self.edit.setCompleter(self.completer)
        self.reason = StatusLine()
        self.reason.setAccessibleName(f"{name} address problem")
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.edit)
        layout.addWidget(self.reason)
        self.error: InvalidAddress | None = None
        self.addresses: tuple[str, ...] = ()
        self._private: list[str] = []
        self.edit.textChanged.connect(self.on_edit_text_changed)
        self.edit.editingFinished.connect(self.on_edit_editing_finished)

    def text(self) -> str:
        return self.edit.text()

    def set_text(self, text: str) -> None:
        """Fill the field (from a link, a draft): a problem in it is shown at once."""
        self.edit.setText(text)
        self._show()

    @property
    def shows_problem(self) -> bool:
        return self.reason.isVisibleTo(self)

    def on_edit_text_changed(self, text: str) -> None:
        # Imported here: the address checker (email_validator) is slow to load, and the main
        # window imports this module before its first paint for bring_to_front.
        from app.core.delivery.addresses import is_private_address, parse_address_list

        try:
            self.addresses, self.error = parse_address_list(text), None
        except InvalidAddress as error:
            self.addresses, self.error = (), error
        self._private = [a for a in self.addresses if is_private_address(a)]
        if self.error is None or self.shows_problem:
            self._show()  # clear at once when fixed; keep an already shown problem current
        self.validity_changed.emit()

    def on_edit_editing_finished(self) -> None:
        self._show()

    def changeEvent(self, event: QtCore.QEvent) -> None:  # noqa: N802 - Qt override
        super().changeEvent(event)
        if event.type() in _PALETTE_EVENTS:
            self._show()

    def _style(self, sheet: str) -> None:
        if sheet != self.edit.styleSheet():  # setting it changes palettes: only when needed
            self.edit.setStyleSheet(sheet)

    def _show(self) -> None:
        if self.error is None:
            self._style("")
            self.edit.setToolTip("")
            private = self._private
            if private:  # a quiet note, never a block: company and home servers use these
                domains = sorted({a.rpartition("@")[2] for a in private})
                self.reason.show_text(
                    f"{', '.join(domains)}: only reachable inside a private network.", ""
                )
            else:
                self.reason.clear_text()
            return
        colour = tone(self, "error")
        self._style(
            f"QLineEdit {{ border: 2px solid {colour}; border-radius: 3px; padding: 1px;"
            " background: palette(base); color: palette(text); }"
        )
        self.edit.setToolTip(self.error.hint)
        self.reason.show_text(self.error.message, "error")


def confirm(
    parent: QtWidgets.QWidget, title: str, text: str, action: str, *, name: str = ""
) -> bool:
    """Ask before a destructive step; the buttons say what happens ("Remove account",
    "Cancel"), and Cancel is the default so a stray Enter does nothing."""
    box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Question, title, text, parent=parent)
    box.setObjectName(name or "confirm")
    do = box.addButton(action, QtWidgets.QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(box.addButton(QtWidgets.QMessageBox.StandardButton.Cancel))
    box.exec()
    return box.clickedButton() is do
