"""Measuring the assistant: conversation scenarios run through the
real pipeline (``voxa eval``) and the memory-extraction labelled set."""
