"""feeds: a health-news feed service.

Pulls articles from configured RSS/Atom sources, normalizes and stores them, tags them by
medical topic and republishes filtered feeds. The pipeline is described in ``feeds.update``.
"""

__version__ = "0.1.0"
