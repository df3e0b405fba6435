"""Architectures this project defines itself, with module names made for exploring."""
