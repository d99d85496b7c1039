"""A business's knowledge base: documents, passages, retrieval."""
