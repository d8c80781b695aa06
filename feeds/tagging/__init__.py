"""Topic tagging: rules, matcher, MeSH vocabulary."""
