"""ISMP: Information Security Management Platform."""

__version__ = "0.1.0"
