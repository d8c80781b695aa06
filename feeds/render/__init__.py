"""Renderers: turn a ``FeedView`` into RSS 2.0, Atom 1.0 or JSON Feed 1.1 bytes."""
