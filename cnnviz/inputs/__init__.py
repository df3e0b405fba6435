"""Safe file input: whatever a user hands the app is data, checked before it is used.

Images (their cost read from the header before any pixel is decoded), checkpoints and the
user-model format (state dicts only, never pickled code), files the user named on the CLI,
and the offline sample gallery that ships with the packages.
"""
