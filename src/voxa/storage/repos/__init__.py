"""Data access. Every function that reads tenant data takes ``scope=``."""
