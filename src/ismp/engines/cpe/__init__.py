"""CPE names (NISTIR 7695): parse a 2.3 formatted string or a 2.2 URI into a canonical :class:`CpeName`."""

from ismp.engines.cpe.name import ANY, ATTRIBUTES, NA, CpeName, CpeSyntaxError, parse_cpe, plain

__all__ = ["ANY", "ATTRIBUTES", "NA", "CpeName", "CpeSyntaxError", "parse_cpe", "plain"]
