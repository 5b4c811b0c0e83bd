"""The sandbox's fast path: plain creates and list pages served before Django.

``router`` is the WSGI wrapper in front of Django; ``creates`` and ``list_pages`` serve
the two create endpoints and the plain list pages; ``checks`` is what every request on
them checks first; ``group_commit`` writes on one SQLite connection per thread and
commits concurrent requests together. Rules, texts and mail subjects are the Django
path's own (its ``service`` and ``api`` modules, ``mail``, ``links``, ``ratelimit``):
anything unusual goes to Django. See docs/sandbox.md.
"""
