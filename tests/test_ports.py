"""Ports and addresses: a free port, a container's published port (on the real engine)."""

from __future__ import annotations

import socket

import pytest

from labhelpers import ports


def test_free_port_can_be_bound():
    port = ports.free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_unpublished_ports_are_none():
    attrs = {"NetworkSettings": {"Ports": {"5000/tcp": None, "6379/tcp": []}}}
    assert ports.host_port(attrs) is None
    assert ports.host_port(attrs, "6379/tcp") is None
    assert ports.address(attrs) is None and ports.url(attrs) is None
    assert ports.host_port({}) is None


@pytest.mark.engine
def test_the_port_the_engine_picked(client, python_image, prefix):
    box = client.containers.run(python_image.id, ["sleep", "30"], detach=True, name=f"helpers-{prefix}",
                                labels={"lab.test": prefix}, ports={"5000/tcp": ("127.0.0.1", None)})
    try:
        box.reload()
        port = ports.host_port(box)
        assert isinstance(port, int) and port > 0
        assert ports.host_port(box, "5000") == port
        assert ports.address(box) == f"127.0.0.1:{port}"
        assert ports.url(box, "/health") == f"http://127.0.0.1:{port}/health"
        assert ports.host_port(box, "8000/tcp") is None
    finally:
        box.remove(force=True)
