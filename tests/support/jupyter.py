"""A notebook run through a JupyterLab server's own API, as its browser runs it: a session (POST /api/sessions)
starts the notebook's kernel, and each code cell goes as an execute_request over the kernel's websocket
(/api/kernels/<id>/channels), signed in by the browser's session cookie and XSRF token. Outputs are written back
into the notebook (PUT /api/contents), so that JupyterLab shows them.

The message format is Jupyter's messaging protocol 5.3 (jupyter_client's docs/messaging.rst); jupyter_server
relays it as JSON text frames on the v1 websocket.
"""

from __future__ import annotations

import json
import time
import uuid
from urllib.parse import quote

import nbformat
import requests
import websocket


class CellError(AssertionError):
    """A cell raised: its traceback, plain."""


def run_notebook(
    base_url: str, http: requests.Session, path: str, kernel: str, cell_seconds: float = 600, preamble: str = ""
) -> nbformat.NotebookNode:
    """Run every code cell of the notebook at ``path`` (relative to the server's root) in a new ``kernel``,
    save the outputs into it, and return it; raises CellError at the first cell that fails. ``preamble`` runs
    first in the same kernel, as a learner's own cell would, and is not saved."""
    xsrf = http.cookies.get("_xsrf", "")
    headers = {"X-XSRFToken": xsrf}
    model = http.get(f"{base_url}/api/contents/{quote(path)}", headers=headers)
    model.raise_for_status()
    notebook = nbformat.from_dict(model.json()["content"])
    session = http.post(f"{base_url}/api/sessions", headers=headers, json={
        "path": path, "type": "notebook", "name": path.rsplit("/", 1)[-1], "kernel": {"name": kernel}})  # fmt: skip
    session.raise_for_status()
    kernel_id = session.json()["kernel"]["id"]
    cookie = "; ".join(f"{name}={value}" for name, value in http.cookies.items())
    socket_url = base_url.replace("http://", "ws://", 1) + f"/api/kernels/{kernel_id}/channels?session_id={uuid.uuid4().hex}"
    channel = websocket.create_connection(socket_url, header=[f"Cookie: {cookie}", f"X-XSRFToken: {xsrf}"], timeout=cell_seconds)
    try:
        if preamble:
            _execute(channel, preamble, cell_seconds)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = _execute(channel, cell.source, cell_seconds)
    finally:
        channel.close()
        http.delete(f"{base_url}/api/sessions/{session.json()['id']}", headers=headers)
    saved = http.put(f"{base_url}/api/contents/{quote(path)}", headers=headers,
                     json={"type": "notebook", "format": "json", "content": notebook})  # fmt: skip
    saved.raise_for_status()
    return notebook


def _execute(channel: websocket.WebSocket, source: str, seconds: float) -> tuple[list[nbformat.NotebookNode], int | None]:
    """One cell's outputs and execution count, as the kernel's iopub messages report them."""
    msg_id = uuid.uuid4().hex
    channel.send(json.dumps({
        "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "test", "session": msg_id,
                   "date": "", "version": "5.3"},
        "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
        "content": {"code": source, "silent": False, "store_history": True, "user_expressions": {},
                    "allow_stdin": False, "stop_on_error": True},
    }))  # fmt: skip
    outputs: list[nbformat.NotebookNode] = []
    count = None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        message = json.loads(channel.recv())
        if message.get("parent_header", {}).get("msg_id") != msg_id or message.get("channel") != "iopub":
            continue
        kind, content = message["msg_type"], message["content"]
        if kind == "status" and content["execution_state"] == "idle":
            return outputs, count
        if kind == "execute_input":
            count = content.get("execution_count")
        elif kind == "stream":
            outputs.append(nbformat.v4.new_output("stream", name=content["name"], text=content["text"]))
        elif kind in ("display_data", "execute_result"):
            output = nbformat.v4.new_output(kind, data=content["data"], metadata=content.get("metadata", {}))
            if kind == "execute_result":
                output.execution_count = content.get("execution_count")
            outputs.append(output)
        elif kind == "error":
            raise CellError(f"{content['ename']}: {content['evalue']}\n" + "\n".join(content["traceback"]))
    raise CellError(f"a cell ran longer than {seconds} s")


def outputs_text(cell: nbformat.NotebookNode) -> str:
    """A cell's printed and displayed text, as a reader sees it."""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in ("display_data", "execute_result"):
            parts.append(output.data.get("text/plain", ""))
    return "".join(parts)
