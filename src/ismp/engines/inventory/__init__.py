"""Inventory input formats: spreadsheet ledgers (CSV, XLSX) and SBOMs (CycloneDX, SPDX)."""
