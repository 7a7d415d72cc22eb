"""Vulnerability-intelligence feeds: one package per source, each turning raw data into plain records."""
