"""The SDK's version, written into every WAL header."""

__version__ = "0.1.0"
