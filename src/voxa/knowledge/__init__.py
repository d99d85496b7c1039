"""A business's knowledge base (DESIGN §13): documents, passages, retrieval."""
