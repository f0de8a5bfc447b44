"""Compare feature module: synchronised series side by side, reference lines, hanging protocols."""
