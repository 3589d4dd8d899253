"""One Relaydesk per user and data folder: a lock file plus a local socket for messages.

A second launch sends one line ("activate", "quick-send" or a mailto: URL) to the
running instance and exits.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from app.qt import QObject, QtCore, QtNetwork, Signal, Slot

CONNECT_TIMEOUT_MS = 1000


def server_name(state_dir: Path) -> str:
    """A socket name unique to this user and this data folder."""
    digest = hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()[:16]
    return f"relaydesk-{os.getuid() if hasattr(os, 'getuid') else 0}-{digest}"


class SingleInstance(QObject):
    """Holds the lock and the listening socket of the running instance."""

    message_received = Signal(str)

    def __init__(self, state_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        state_dir.mkdir(parents=True, exist_ok=True)
        self.name = server_name(state_dir)
        self._lock = QtCore.QLockFile(str(state_dir / "relaydesk.lock"))
        self._lock.setStaleLockTime(0)  # only a dead owner's lock is stale
        self._server: QtNetwork.QLocalServer | None = None
        self._buffers: dict[QtNetwork.QLocalSocket, bytes] = {}

    def claim(self) -> bool:
        """True when this process is now the one instance (and is listening)."""
        if not self._lock.tryLock(100):
            return False
        QtNetwork.QLocalServer.removeServer(self.name)  # left behind by a crash
        server = QtNetwork.QLocalServer(self)
        server.setSocketOptions(QtNetwork.QLocalServer.SocketOption.UserAccessOption)
        server.newConnection.connect(self.on_server_new_connection)
        if not server.listen(self.name):
            raise RuntimeError(f"cannot listen on {self.name}: {server.errorString()}")
        self._server = server
        return True

    def send(self, message: str) -> bool:
        """From a second launch: hand ``message`` to the running instance."""
        socket = QtNetwork.QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
            return False
        socket.write(message.encode("utf-8") + b"\n")
        ok = socket.waitForBytesWritten(CONNECT_TIMEOUT_MS)
        socket.disconnectFromServer()
        if socket.state() != QtNetwork.QLocalSocket.LocalSocketState.UnconnectedState:
            socket.waitForDisconnected(CONNECT_TIMEOUT_MS)
        return ok

    def release(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for socket in list(self._buffers):
            socket.abort()
        self._buffers.clear()
        if self._lock.isLocked():
            self._lock.unlock()

    @Slot()
    def on_server_new_connection(self) -> None:
        assert self._server is not None
        while (socket := self._server.nextPendingConnection()) is not None:
            self._buffers[socket] = b""
            socket.readyRead.connect(self.on_socket_ready_read)
            socket.disconnected.connect(self.on_socket_disconnected)
            if socket.bytesAvailable():
                self._read(socket)

    @Slot()
    def on_socket_ready_read(self) -> None:
        socket = self.sender()
        if isinstance(socket, QtNetwork.QLocalSocket):
            self._read(socket)

    @Slot()
    def on_socket_disconnected(self) -> None:
        socket = self.sender()
        if isinstance(socket, QtNetwork.QLocalSocket):
            if socket.isOpen() and socket.bytesAvailable():
                self._read(socket)
            self._buffers.pop(socket, None)
            socket.deleteLater()

    def _read(self, socket: QtNetwork.QLocalSocket) -> None:
        data = self._buffers.get(socket, b"") + bytes(socket.readAll().data())
        *lines, rest = data.split(b"\n")
        self._buffers[socket] = rest[:4096]  # a peer that never ends a line cannot grow this
        for line in lines:
            text = line.decode("utf-8", errors="replace").strip()
            if text:
                self.message_received.emit(text)
