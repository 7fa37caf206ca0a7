"""Record what a widget sends to the browser (no kernel: the comm is a stand-in)."""

from __future__ import annotations

import copy
from typing import Any


class Sent:
    """Every message a widget's comm sends: state updates and custom messages."""

    def __init__(self, widget: Any) -> None:
        self.messages: list[dict[str, Any]] = []
        self.initial = copy.deepcopy(dict(widget.doc))
        widget.comm.send = self._send

    def _send(self, data: Any = None, metadata: Any = None, buffers: Any = None) -> None:
        self.messages.append(data)

    def custom(self) -> list[dict[str, Any]]:
        """The custom messages' contents (patches, whole documents)."""
        return [m["content"] for m in self.messages if m.get("method") == "custom"]

    def patches(self) -> list[dict[str, Any]]:
        return [c["patch"] for c in self.custom() if "patch" in c]

    def states(self) -> list[dict[str, Any]]:
        """The state updates (``doc`` trait syncs)."""
        return [m["state"] for m in self.messages if m.get("method") == "update"]

    def browser_doc(self) -> dict[str, Any]:
        """The document the browser's model holds now (labextension/src/patch.ts, widget.ts)."""
        doc = copy.deepcopy(self.initial)
        for m in self.messages:
            if m.get("method") == "update" and "doc" in m.get("state", {}):
                doc = copy.deepcopy(m["state"]["doc"])
            elif m.get("method") == "custom" and "doc" in m["content"]:
                doc = copy.deepcopy(m["content"]["doc"])
            elif m.get("method") == "custom" and "patch" in m["content"]:
                patch = m["content"]["patch"]
                doc.update(patch.get("run", {}))
                for i, node in patch.get("nodes", []):
                    doc["nodes"][i] = node
        return doc
