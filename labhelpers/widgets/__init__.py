"""The ipywidgets controls of the lab, one module per widget.

Importing this package does not import ipywidgets; each widget module does.

Introduced in ``02-docker-engine-api`` (API explorer) and ``04-docker-py``
(container dashboard, build progress).
"""
