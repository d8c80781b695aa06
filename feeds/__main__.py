"""``python -m feeds`` runs the command-line interface."""

from feeds.cli import main

if __name__ == "__main__":
    main()
