"""JavaScript as a language plug-in: tokenizer, grammar, AST constraints and the node runner."""

from engine.languages.javascript.runner import JSRunner, find_node

__all__ = ["JSRunner", "find_node"]
