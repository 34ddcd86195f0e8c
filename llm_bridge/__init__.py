"""LLM bridge: verifiable-reward reasoning tasks trained on the self-play loop."""
