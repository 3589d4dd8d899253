"""First launch, the Help menu, and what still reads at 800x600 (issue 15)."""

from __future__ import annotations

from app.core.delivery import outbox
from app.core.delivery.outbox import State
from app.qt import QtCore, QtGui, QtWidgets
from app.ui.help_menu import PlacesDialog
from app.ui.icons import outbox_icon
from app.ui.outbox.view import REASON_COLUMN
from tests.gui.test_main_window import queue


def test_first_launch_without_an_account_opens_the_welcome(qtbot, controller) -> None:
    window = controller.window
    assert window.stack.currentWidget() is window.accounts
    welcome = window.accounts.empty
    assert (
        welcome.isVisible() and "Welcome to Relaydesk" in welcome.findChild(QtWidgets.QLabel).text()
    )
    buttons = [b for b in welcome.findChildren(QtWidgets.QPushButton) if b.isVisible()]
    assert buttons == [window.accounts.setup_button]  # one thing to do
    visible = [b for b in window.accounts.findChildren(QtWidgets.QPushButton) if b.isVisible()]
    assert visible == [window.accounts.setup_button]
    assert window.focusWidget() is window.accounts.setup_button


def test_with_an_account_the_app_opens_on_compose(qtbot, account, controller) -> None:
    assert controller.window.stack.currentWidget() is controller.window.compose


def test_help_menu_links_docs_and_says_where_files_are(qtbot, controller, relaydesk_home) -> None:
    menu = next(a.menu() for a in controller.window.menuBar().actions() if a.text() == "&Help")
    texts = [a.text().replace("&", "") for a in menu.actions() if a.text()]
    assert any("documentation" in t for t in texts)
    assert "Where your data and logs are…" in texts
    dialog = PlacesDialog(controller.window, controller.paths)
    qtbot.addWidget(dialog)
    shown = "\n".join(label.text() for label in dialog.findChildren(QtWidgets.QLabel))
    assert str(relaydesk_home / "data" / "relaydesk.sqlite3") in shown
    assert str(relaydesk_home / "state") in shown and "keyring" in shown


def _mean_colour(icon: QtGui.QIcon, mode: QtGui.QIcon.Mode) -> QtGui.QColor:
    image = icon.pixmap(22, 22, mode).toImage()
    pixels = [
        image.pixelColor(x, y)
        for x in range(image.width())
        for y in range(image.height())
        if image.pixelColor(x, y).alpha() > 200
    ]
    assert pixels
    return QtGui.QColor(
        sum(p.red() for p in pixels) // len(pixels),
        sum(p.green() for p in pixels) // len(pixels),
        sum(p.blue() for p in pixels) // len(pixels),
    )


def _contrast(a: QtGui.QColor, b: QtGui.QColor) -> float:
    def luminance(c: QtGui.QColor) -> float:
        def channel(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        return (
            0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())
        )

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_selected_outbox_icon_stands_out_from_the_highlight(qtbot, controller) -> None:
    highlight = QtWidgets.QApplication.palette().color(QtGui.QPalette.ColorRole.Highlight)
    selected = _mean_colour(outbox_icon(), QtGui.QIcon.Mode.Selected)
    assert _contrast(selected, highlight) >= 3.0, (selected.name(), highlight.name())


def _columns_fit(table: QtWidgets.QTableView) -> None:
    header = table.horizontalHeader()
    width = table.viewport().width()
    for column in range(header.count()):
        if header.isSectionHidden(column):
            continue
        left = header.sectionViewportPosition(column)
        name = table.model().headerData(column, QtCore.Qt.Orientation.Horizontal)
        assert left + min(header.sectionSize(column), 60) <= width, (name, left, width)


def test_key_columns_show_at_800x600(qtbot, account, controller) -> None:
    window = controller.window
    window.resize(800, 600)
    item = queue(controller.store, "Invoice")
    outbox.set_state(controller.store, item, State.RETRYING, next_attempt_at=4e9)
    controller.service.outbox_changed.emit()
    for row in (2, 3):
        window.show_page(row)
        qtbot.wait(20)
    _columns_fit(window.outbox.table)
    assert window.outbox.table.columnWidth(REASON_COLUMN) >= 150  # the reason can be read
    _columns_fit(window.accounts.table)
    name = window.accounts.table.item(0, 0)
    metrics = window.accounts.table.fontMetrics()
    assert window.accounts.table.columnWidth(0) >= metrics.horizontalAdvance(name.text())


def test_file_settings_opens_the_settings_dialog(qtbot, account, controller) -> None:
    from app.qt import QTimer

    seen: list[str] = []

    def close() -> None:
        dialog = QtWidgets.QApplication.activeModalWidget()
        assert dialog is not None
        seen.append(dialog.windowTitle())
        dialog.reject()

    QTimer.singleShot(100, close)
    controller.window.settings_requested.emit()  # File → Settings… (Ctrl+,)
    assert seen == ["Relaydesk settings"]
