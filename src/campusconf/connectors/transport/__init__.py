"""How Webex's and Zoom's connectors reach the vendors: an HTTP/1.1 client on the
standard library (``http_client``), the environment's proxy (``proxy``), and many
requests in flight from one thread (``mux``, with its framing in ``framing``).

It knows nothing of any vendor: the payloads are ``webex_payloads`` and
``zoom_payloads``, and the pieces the connectors share ``http_helpers``.
"""
