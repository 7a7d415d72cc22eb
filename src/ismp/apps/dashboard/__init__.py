"""The CISO's bottom line (ボトムラインの可視化) per company, organisation and system, and its reports."""
