"""A tile of a remote camera: a camera of a headless camwall node, shown on this wall.

It is a :class:`~camwall.ui.wall.tile.CameraTile` (the picture comes from the wall's own
view-only capture of the URL the node announces) that also says what the node says: the
node is offline (top-right badge and bottom-right text), the node's camera is not streaming.
Its menu has no Edit/Rename/Remove: the camera belongs to the node's config.
"""

from __future__ import annotations

from qtpy.QtWidgets import QMenu, QWidget

from camwall.ui.wall.tile import CameraTile

#: The top-right badge while the node is offline (text, rgb).
OFFLINE_BADGE = ("NODE OFFLINE", (230, 40, 40))
#: Menu entries of a local tile that make no sense for a node's camera.
_LOCAL_ONLY = ("editAction", "renameAction", "removeAction")


class RemoteTile(CameraTile):
    """The tile of camera ``camera`` of node ``node``, named ``"node / camera"`` on the wall."""

    # Class defaults: the base class's constructor already asks for details_text().
    node = ""
    remote_camera = ""
    _offline: str | None = None
    _node_state = ""

    def __init__(self, name: str, node: str, camera: str, parent: QWidget | None = None) -> None:
        """A tile titled ``name`` (the wall's name for the camera) with no ring yet."""
        super().__init__(name, parent)
        self.node = node
        #: The camera's name on its node (commands name it so).
        self.remote_camera = camera
        self._update_tooltip()

    @property
    def node_online(self) -> bool:
        """False while the node counts as offline."""
        return self._offline is None

    def set_node_offline(self, reason: str | None) -> None:
        """The node is offline because of ``reason`` (None: it is online)."""
        if reason == self._offline:
            return
        self._offline = reason
        self.set_badge_override(None if reason is None else OFFLINE_BADGE)
        self._update_tooltip()
        self.update()

    def set_node_state(self, text: str) -> None:
        """What the node says of its camera when it is not streaming there ("" when it is)."""
        if text != self._node_state:
            self._node_state = text
            self._update_tooltip()
            self.update()

    @property
    def node_status(self) -> str:
        """``node offline: <reason>``, the node's camera state, or "" when all is well."""
        if self._offline is not None:
            return f"node offline: {self._offline}" if self._offline else "node offline"
        return self._node_state

    def corner_badge(self) -> str:
        """The node's status first, then recording and detection (as on a local tile)."""
        return " · ".join(p for p in (self.node_status, super().corner_badge()) if p)

    def details_text(self) -> str:
        """The local tile's details and where the camera lives."""
        text = super().details_text()
        text += f"\ncamera {self.remote_camera!r} of node {self.node}"
        if self.node_status:
            text += f"\n{self.node_status}"
        return text

    def context_menu(self, running: bool = True) -> QMenu:
        """The local tile's menu without what only a local camera can do."""
        menu = super().context_menu(running)
        for action in menu.actions():
            if action.objectName() in _LOCAL_ONLY:
                action.setVisible(False)
        return menu
