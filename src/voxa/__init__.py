"""voxa: many concurrent, strictly isolated AI assistant conversations by voice and text."""
