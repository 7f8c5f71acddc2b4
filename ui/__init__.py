"""Dialogs and panels: they only gather choices and call Processing algorithms."""
