"""What the tests and the benchmarks share: the app's pages read from app.py, the bad-input
catalogue, a real server and Chromium (``testing.browser``), a cluster of replicas behind nginx.

A package at the top of the repository, imported as ``testing.*`` by ``tests/`` and ``bench/``
(``python -m pytest`` and ``python -m bench`` run from the repository's root), so neither
puts the other's folders on ``sys.path``.
"""
