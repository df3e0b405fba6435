"""One module per CLI subcommand (``python -m cnnviz NAME ...``), each with two functions.

``register(sub)`` adds the subcommand's parser to ``sub``, the CLI's subparsers, and sets
``func=run`` as its default. ``run(args)`` does the work for ``args``, the parsed command
line, prints the result (JSON with ``--json`` where offered) and returns the exit status,
0. Bad input raises a CnnvizError, which ``cnnviz.cli`` prints as one line with status 2.
Their docstrings say only what the subcommand does.
"""
