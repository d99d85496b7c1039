"""Signed outgoing webhooks (Standard Webhooks): endpoints, deliveries, sending."""
