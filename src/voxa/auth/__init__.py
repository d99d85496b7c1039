"""Credentials: password hashing, signed bearer/session tokens, principals."""
