"""Ports and addresses on the host: a free port, a container's published port, its URL.

A container publishes a port on ``127.0.0.1``; the engine picks the host port when
asked for none. :func:`host_port` reads which it picked from the container's
``NetworkSettings.Ports``, :func:`address` makes ``127.0.0.1:PORT`` of it, and
:func:`free_port` finds a port free now (for a compose file's ``${WEB_PORT}``, a server
the kit starts on the host).

>>> from labhelpers.ports import free_port, host_port
>>> 1024 < free_port() < 65536
True
>>> host_port({"NetworkSettings": {"Ports": {"5000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "49153"}]}}})
49153

Introduced in ``01-python-apps-in-docker``.
"""

from __future__ import annotations

import socket

#: Where the kit publishes containers' ports: loopback only, never every interface.
LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port free on ``host`` right now.

    Args:
        host: the interface to bind to.

    Returns:
        The port number (another program may take it later: use it soon).

    >>> 1024 < free_port() < 65536
    True
    """
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _attrs(container) -> dict:
    return container if isinstance(container, dict) else (getattr(container, "attrs", None) or {})


def host_port(container, container_port: str = "5000/tcp") -> int | None:
    """The host port a container publishes ``container_port`` on, or None.

    Args:
        container: a reloaded ``Container`` (or its ``attrs`` dict).
        container_port: the container's port, ``"5000/tcp"`` (a bare number means tcp).

    Returns:
        The host port, or None when it is not published (or not yet: reload it).

    >>> host_port({"NetworkSettings": {"Ports": {"5000/tcp": None}}}) is None
    True
    >>> host_port({"NetworkSettings": {"Ports": {"80/tcp": [{"HostPort": "8080"}]}}}, "80")
    8080
    """
    if "/" not in str(container_port):
        container_port = f"{container_port}/tcp"
    ports = (_attrs(container).get("NetworkSettings") or {}).get("Ports") or {}
    for binding in ports.get(container_port) or []:
        if binding.get("HostPort"):
            return int(binding["HostPort"])
    return None


def address(container, container_port: str = "5000/tcp", host: str = LOOPBACK) -> str | None:
    """``127.0.0.1:PORT`` where the host reaches a container's published port, or None.

    Args:
        container: a reloaded ``Container`` (or its ``attrs`` dict).
        container_port: the container's port.
        host: the host part (the kit publishes on loopback).

    Returns:
        ``"HOST:PORT"``, or None when the port is not published.

    >>> address({"NetworkSettings": {"Ports": {"5000/tcp": [{"HostPort": "49153"}]}}})
    '127.0.0.1:49153'
    """
    port = host_port(container, container_port)
    return None if port is None else f"{host}:{port}"


def url(container, path: str = "/", container_port: str = "5000/tcp", scheme: str = "http") -> str | None:
    """``http://127.0.0.1:PORT/path`` for a container's published port, or None.

    Args:
        container: a reloaded ``Container`` (or its ``attrs`` dict).
        path: the URL's path.
        container_port: the container's port.
        scheme: ``http`` or ``https``.

    Returns:
        The URL, or None when the port is not published.

    >>> url({"NetworkSettings": {"Ports": {"8000/tcp": [{"HostPort": "8080"}]}}}, "/health", "8000/tcp")
    'http://127.0.0.1:8080/health'
    """
    where = address(container, container_port)
    return None if where is None else f"{scheme}://{where}{path}"
